using Handoff.Contracts.Security;

namespace Handoff.Contracts.Telemetry;

/// <summary>The hub's collector of finished spans (key 0): keeps recent traces in memory, indexed by payment id.</summary>
[Alias("handoff.ITraceCollectorGrain")]
public interface ITraceCollectorGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Adds a batch of finished spans from one process. Open to every process of the household (a device exports
    /// before it has paired): spans are diagnostics, and nothing in the payment's state or the ledger reads them.
    /// </summary>
    [Alias("Export"), NoSession]
    Task ExportAsync(IReadOnlyList<SpanRecord> spans);

    /// <summary>Every kept span of the traces of <paramref name="paymentId"/>, or null when none is kept.</summary>
    [Alias("GetByPayment")]
    Task<TraceView?> GetByPaymentAsync(string paymentId);

    /// <summary>The most recent kept traces that carry a payment id, newest first.</summary>
    [Alias("Recent")]
    Task<IReadOnlyList<TraceSummary>> RecentAsync(int count);
}

/// <summary>One finished span as a process exported it.</summary>
/// <param name="Process">The exporting process (its service name, e.g. <c>hub</c>, <c>payer phone-1</c>).</param>
/// <param name="Tags">The span's tags that tell a reader something: the project's, RPC and errors.</param>
[GenerateSerializer, Immutable, Alias("handoff.SpanRecord")]
public sealed record SpanRecord(
    [property: Id(0)] string TraceId,
    [property: Id(1)] string SpanId,
    [property: Id(2)] string? ParentSpanId,
    [property: Id(3)] string Name,
    [property: Id(4)] string Kind,
    [property: Id(5)] DateTimeOffset Start,
    [property: Id(6)] TimeSpan Duration,
    [property: Id(7)] string Process,
    [property: Id(8)] bool Error,
    [property: Id(9)] IReadOnlyDictionary<string, string> Tags)
{
    public string? Tag(string name) => Tags.TryGetValue(name, out var value) ? value : null;
}

/// <summary>The spans the hub keeps for one payment, from every trace that carries its id.</summary>
[GenerateSerializer, Immutable, Alias("handoff.TraceView")]
public sealed record TraceView(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] IReadOnlyList<SpanRecord> Spans);

/// <summary>A kept trace in a list: its payment, start, length and size.</summary>
[GenerateSerializer, Immutable, Alias("handoff.TraceSummary")]
public sealed record TraceSummary(
    [property: Id(0)] string TraceId,
    [property: Id(1)] string PaymentId,
    [property: Id(2)] DateTimeOffset Start,
    [property: Id(3)] TimeSpan Duration,
    [property: Id(4)] int SpanCount);
