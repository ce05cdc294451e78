using Handoff.Contracts.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Handoff.Grains.Telemetry;

/// <summary>
/// The hub's span collector: every process of the household exports its finished spans here in batches.
/// Kept alive, since its store is memory only: traces are for reading recent handoffs, not an archive.
/// </summary>
[KeepAlive]
public sealed class TraceCollectorGrain(IConfiguration configuration) : Grain, ITraceCollectorGrain
{
    private readonly TraceStore _store = new(configuration.GetSection(TraceStoreOptions.Section).Get<TraceStoreOptions>() ?? new TraceStoreOptions());

    public Task ExportAsync(IReadOnlyList<SpanRecord> spans)
    {
        _store.Add(spans);
        return Task.CompletedTask;
    }

    public Task<TraceView?> GetByPaymentAsync(string paymentId) => Task.FromResult(_store.GetByPayment(paymentId));

    public Task<IReadOnlyList<TraceSummary>> RecentAsync(int count) => Task.FromResult(_store.Recent(count));
}
