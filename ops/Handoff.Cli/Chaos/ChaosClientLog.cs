using Microsoft.Extensions.Logging;

namespace Handoff.Cli.Chaos;

/// <summary>
/// The log of the run's own Orleans client (the SDK connection that watches every payment), written beside the
/// household's logs: when the SDK loses the household, this says why.
/// </summary>
internal sealed class ChaosClientLog(ChaosHousehold household) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Writer(household, categoryName);

    public void Dispose()
    {
    }

    private sealed class Writer(ChaosHousehold household, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning
            || (logLevel >= LogLevel.Information && category.StartsWith("Orleans.Messaging", StringComparison.Ordinal));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                household.Log($"client {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})")}");
            }
        }
    }
}
