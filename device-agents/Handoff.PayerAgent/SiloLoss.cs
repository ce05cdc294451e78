using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Handoff.PayerAgent;

/// <summary>
/// Replaces Orleans' fatal-error handler on a payer silo. Orleans ends the process when the cluster's
/// membership is lost (with development clustering: whenever the hub restarts); a phone should instead
/// rejoin, so this stops the host and lets <see cref="PayerAgentRunner"/> start a fresh silo.
/// </summary>
internal sealed partial class SiloLoss(IHostApplicationLifetime lifetime, ILogger<SiloLoss> logger) : IFatalErrorHandler
{
    private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the silo can no longer take part in the household.</summary>
    public Task Lost => _lost.Task;

    public bool IsUnexpected(Exception exception) => exception is not ThreadAbortException;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        LogLost(logger, exception, context ?? exception?.Message ?? "unknown");
        _lost.TrySetResult();
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the household ({Reason}); the payer silo will rejoin")]
    private static partial void LogLost(ILogger logger, Exception? exception, string reason);
}
