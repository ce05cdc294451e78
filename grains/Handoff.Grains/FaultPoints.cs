using Microsoft.Extensions.Logging;

namespace Handoff.Grains;

/// <summary>
/// Named points of the handoff where crash tests stop a process. In production nothing pauses; with
/// <c>HANDOFF_FAULT_PAUSE=&lt;point&gt;</c> the process announces the point on stdout and hangs there,
/// so a test can kill it (SIGKILL) at exactly that step.
/// </summary>
public sealed partial class FaultPoints(ILogger<FaultPoints> logger)
{
    public const string EnvironmentVariable = "HANDOFF_FAULT_PAUSE";

    /// <summary>Hub: the payer showed the offer, Offered is not yet saved.</summary>
    public const string OfferedNotSaved = "offered-not-saved";

    /// <summary>Hub: Authorized and Charging are saved, the ledger not yet called.</summary>
    public const string AuthorizedNotCharged = "authorized-not-charged";

    /// <summary>Hub (ledger): the charge is computed, not yet saved.</summary>
    public const string ChargeInFlight = "charge-in-flight";

    /// <summary>Hub: the ledger saved the charge, Completed is not yet saved.</summary>
    public const string ChargedNotCompleted = "charged-not-completed";

    /// <summary>Hub: a refund is saved as asked, the ledger not yet called.</summary>
    public const string RefundNotBooked = "refund-not-booked";

    /// <summary>Hub: the ledger booked a refund, the payment does not yet record it.</summary>
    public const string RefundedNotSaved = "refunded-not-saved";

    /// <summary>Payer: the PIN was right, the approval not yet sent.</summary>
    public const string ApprovedNotSent = "approved-not-sent";

    private readonly string? _pauseAt = Environment.GetEnvironmentVariable(EnvironmentVariable);

    public Task ReachedAsync(string point)
    {
        if (_pauseAt != point)
        {
            return Task.CompletedTask;
        }

        LogPaused(logger, point);
        Console.Out.WriteLine($"fault point {point} reached: pausing");
        Console.Out.Flush();
        return Task.Delay(Timeout.Infinite);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fault point {Point} reached: pausing until this process is killed")]
    private static partial void LogPaused(ILogger logger, string point);
}
