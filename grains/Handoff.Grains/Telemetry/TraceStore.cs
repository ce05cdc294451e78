using Handoff.Contracts.Telemetry;

namespace Handoff.Grains.Telemetry;

/// <summary>Limits of the hub's trace store (section <c>Handoff:Tracing</c>).</summary>
public sealed class TraceStoreOptions
{
    public const string Section = "Handoff:Tracing";

    /// <summary>How many traces the hub keeps; the oldest goes first.</summary>
    public int MaxTraces { get; set; } = 500;

    /// <summary>How many spans the hub keeps over all traces, so a few huge traces cannot grow memory without bound.</summary>
    public int MaxSpans { get; set; } = 50_000;
}

/// <summary>
/// Recent traces in memory, keyed by trace id and indexed by payment id, bounded by trace and span counts.
/// A trace is kept apart until a span with a payment id arrives (spans of one trace come from several
/// processes, in any order), so traces that never carry one cannot push out the handoffs.
/// </summary>
public sealed class TraceStore(TraceStoreOptions options)
{
    private readonly Dictionary<string, Trace> _traces = [];
    private readonly LinkedList<string> _handoffs = new();
    private readonly LinkedList<string> _unindexed = new();
    private readonly Dictionary<string, HashSet<string>> _byPayment = [];
    private int _spanCount;

    public int TraceCount => _traces.Count;

    public int SpanCount => _spanCount;

    public void Add(IEnumerable<SpanRecord> spans)
    {
        foreach (var span in spans)
        {
            if (!_traces.TryGetValue(span.TraceId, out var trace))
            {
                trace = new Trace(span.TraceId, _unindexed.AddLast(span.TraceId));
                _traces[span.TraceId] = trace;
            }

            trace.Spans.Add(span);
            _spanCount++;
            if (span.Tag(HandoffDiagnostics.PaymentIdTag) is { } paymentId && trace.PaymentId is null)
            {
                trace.PaymentId = paymentId;
                _unindexed.Remove(trace.Age);
                _handoffs.AddLast(trace.Age);
                if (!_byPayment.TryGetValue(paymentId, out var traceIds))
                {
                    _byPayment[paymentId] = traceIds = [];
                }

                traceIds.Add(trace.Id);
            }
        }

        var maxTraces = Math.Max(1, options.MaxTraces);
        while (_handoffs.Count > maxTraces)
        {
            Evict(_handoffs.First!.Value);
        }

        while (_unindexed.Count > maxTraces)
        {
            Evict(_unindexed.First!.Value);
        }

        while (_spanCount > options.MaxSpans && _traces.Count > 1)
        {
            Evict((_unindexed.First ?? _handoffs.First)!.Value);
        }
    }
    public TraceView? GetByPayment(string paymentId)
    {
        if (!_byPayment.TryGetValue(paymentId, out var traceIds))
        {
            return null;
        }

        var spans = traceIds.SelectMany(id => _traces[id].Spans).OrderBy(span => span.Start).ToList();
        return new TraceView(paymentId, spans);
    }

    public IReadOnlyList<TraceSummary> Recent(int count) =>
        [.. _traces.Values
            .Where(trace => trace.PaymentId is not null)
            .Select(trace =>
            {
                var start = trace.Spans.Min(span => span.Start);
                var end = trace.Spans.Max(span => span.Start + span.Duration);
                return new TraceSummary(trace.Id, trace.PaymentId!, start, end - start, trace.Spans.Count);
            })
            .OrderByDescending(summary => summary.Start)
            .Take(count)];

    private void Evict(string traceId)
    {
        var trace = _traces[traceId];
        _traces.Remove(traceId);
        trace.Age.List!.Remove(trace.Age);
        _spanCount -= trace.Spans.Count;
        if (trace.PaymentId is { } paymentId && _byPayment.TryGetValue(paymentId, out var traceIds))
        {
            traceIds.Remove(traceId);
            if (traceIds.Count == 0)
            {
                _byPayment.Remove(paymentId);
            }
        }
    }

    private sealed class Trace(string id, LinkedListNode<string> age)
    {
        public string Id { get; } = id;

        public LinkedListNode<string> Age { get; } = age;

        public List<SpanRecord> Spans { get; } = [];

        public string? PaymentId { get; set; }
    }
}
