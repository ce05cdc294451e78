using Handoff.Contracts.Telemetry;
using Handoff.Grains.Telemetry;

namespace Handoff.Telemetry.Tests;

public sealed class TraceStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Keeps_the_newest_handoffs_and_finds_them_by_payment_id()
    {
        var store = new TraceStore(new TraceStoreOptions { MaxTraces = 2 });

        store.Add([Span("t1", "s1", null, "pay-1", 0), Span("t2", "s2", null, "pay-2", 1), Span("t3", "s3", null, "pay-3", 2)]);

        Assert.Null(store.GetByPayment("pay-1"));
        Assert.Equal(["s2"], store.GetByPayment("pay-2")!.Spans.Select(span => span.SpanId));
        Assert.Equal(["pay-3", "pay-2"], store.Recent(10).Select(trace => trace.PaymentId));
    }

    [Fact]
    public void Traces_without_a_payment_never_push_out_a_handoff()
    {
        var store = new TraceStore(new TraceStoreOptions { MaxTraces = 1 });
        store.Add([Span("t1", "s1", null, "pay-1", 0)]);

        store.Add([Span("x1", "a", null, null, 1), Span("x2", "b", null, null, 2), Span("x3", "c", null, null, 3)]);

        Assert.NotNull(store.GetByPayment("pay-1"));
        Assert.Equal(2, store.TraceCount);
    }

    [Fact]
    public void Spans_of_one_trace_from_several_processes_join_it_in_any_order()
    {
        var store = new TraceStore(new TraceStoreOptions());

        store.Add([Span("t1", "child", "root", null, 1)]);
        store.Add([Span("t1", "root", null, "pay-1", 0)]);

        var tree = TraceText.Tree(store.GetByPayment("pay-1")!.Spans);
        Assert.Equal([("root", 0), ("child", 1)], tree.Select(row => (row.Span.SpanId, row.Depth)));
    }

    [Fact]
    public void The_span_budget_evicts_the_oldest_trace()
    {
        var store = new TraceStore(new TraceStoreOptions { MaxSpans = 3 });

        store.Add([Span("t1", "a", null, "pay-1", 0), Span("t1", "b", "a", null, 1)]);
        store.Add([Span("t2", "c", null, "pay-2", 2), Span("t2", "d", "c", null, 3)]);

        Assert.Null(store.GetByPayment("pay-1"));
        Assert.Equal(2, store.SpanCount);
    }

    private static SpanRecord Span(string traceId, string spanId, string? parent, string? paymentId, int second) => new(
        traceId,
        spanId,
        parent,
        "span " + spanId,
        "Internal",
        T0.AddSeconds(second),
        TimeSpan.FromMilliseconds(5),
        "hub",
        false,
        paymentId is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [HandoffDiagnostics.PaymentIdTag] = paymentId });
}
