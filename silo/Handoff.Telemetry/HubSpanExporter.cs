using System.Diagnostics;
using Handoff.Contracts.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;

namespace Handoff.Telemetry;

/// <summary>
/// Sends each batch of finished spans to the hub's <see cref="ITraceCollectorGrain"/>. It runs on the batch
/// processor's own thread, never on a grain turn; a batch the hub cannot take is dropped, not retried.
/// </summary>
internal sealed partial class HubSpanExporter(IServiceProvider services, string process) : BaseExporter<Activity>
{
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(5);
    private IGrainFactory? _grains;
    private ILogger? _logger;
    private bool _warned;

    public override ExportResult Export(in Batch<Activity> batch)
    {
        var spans = new List<SpanRecord>((int)batch.Count);
        foreach (var activity in batch)
        {
            spans.Add(ToRecord(activity, process));
        }

        _grains ??= services.GetService<IGrainFactory>();
        if (_grains is null || spans.Count == 0)
        {
            return ExportResult.Failure;
        }

        try
        {
            // The export's own grain call must not be traced: that would be a span per export, exported again.
            using var suppress = SuppressInstrumentationScope.Begin();
            _grains.GetGrain<ITraceCollectorGrain>(0).ExportAsync(spans).WaitAsync(ExportTimeout).GetAwaiter().GetResult();
            _warned = false;
            return ExportResult.Success;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Not connected yet, the hub restarting, or a client shutting down: telemetry never fails the process.
            if (!_warned)
            {
                _logger ??= services.GetService<ILoggerFactory>()?.CreateLogger<HubSpanExporter>();
                if (_logger is not null)
                {
                    LogExportFailed(_logger, exception.GetBaseException().Message);
                }

                _warned = true;
            }

            return ExportResult.Failure;
        }
    }

    internal static SpanRecord ToRecord(Activity activity, string process)
    {
        var tags = new Dictionary<string, string>();
        foreach (var (key, value) in activity.EnumerateTagObjects())
        {
            if (value is not null && Keep(key))
            {
                tags[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
            }
        }

        return new SpanRecord(
            activity.TraceId.ToHexString(),
            activity.SpanId.ToHexString(),
            activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
            activity.DisplayName,
            activity.Kind.ToString(),
            activity.StartTimeUtc,
            activity.Duration,
            process,
            activity.Status == ActivityStatusCode.Error,
            tags);
    }

    // Stack traces and internal attributes stay out: the hub keeps what a reader of the tree needs.
    private static bool Keep(string key) =>
        key.StartsWith("handoff.", StringComparison.Ordinal)
        || key.StartsWith("rpc.", StringComparison.Ordinal)
        || key is "exception.type" or "exception.message";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spans not sent to the hub's trace collector: {Problem}")]
    private static partial void LogExportFailed(ILogger logger, string problem);
}
