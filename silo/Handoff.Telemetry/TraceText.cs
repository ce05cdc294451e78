using System.Globalization;
using System.Text;
using Handoff.Contracts.Telemetry;

namespace Handoff.Telemetry;

/// <summary>A handoff's spans as a tree: start offset, duration, name, and the process, device and silo of each.</summary>
public static class TraceText
{
    /// <summary>The spans ordered as a tree (parents before children, siblings by start), with each one's depth.</summary>
    public static IReadOnlyList<(SpanRecord Span, int Depth)> Tree(IReadOnlyList<SpanRecord> spans)
    {
        var ids = spans.Select(span => span.SpanId).ToHashSet();
        var children = spans
            .Where(span => span.ParentSpanId is not null && ids.Contains(span.ParentSpanId))
            .GroupBy(span => span.ParentSpanId!)
            .ToDictionary(group => group.Key, group => group.OrderBy(span => span.Start).ToList());

        // A span whose parent was not kept (sampled out, evicted, or in a process that never exported) is shown as a root.
        var roots = spans.Where(span => span.ParentSpanId is null || !ids.Contains(span.ParentSpanId)).OrderBy(span => span.Start);
        var ordered = new List<(SpanRecord, int)>(spans.Count);
        var pending = new Stack<(SpanRecord Span, int Depth)>(roots.Reverse().Select(span => (span, 0)));
        while (pending.TryPop(out var next))
        {
            ordered.Add(next);
            if (children.TryGetValue(next.Span.SpanId, out var kids))
            {
                for (var index = kids.Count - 1; index >= 0; index--)
                {
                    pending.Push((kids[index], next.Depth + 1));
                }
            }
        }

        return ordered;
    }

    /// <summary>Where a span ran: its process, and the device and silo when the span names them.</summary>
    public static string Where(SpanRecord span)
    {
        var where = new StringBuilder(span.Process);
        if (span.Tag(HandoffDiagnostics.DeviceTag) is { } device && !span.Process.Contains(device, StringComparison.Ordinal))
        {
            where.Append(CultureInfo.InvariantCulture, $" · device {device}");
        }

        if (span.Tag(HandoffDiagnostics.SiloTag) is { } silo)
        {
            where.Append(CultureInfo.InvariantCulture, $" · silo {silo}");
        }

        return where.ToString();
    }

    public static string Render(TraceView trace)
    {
        var spans = trace.Spans;
        var start = spans.Min(span => span.Start);
        var end = spans.Max(span => span.Start + span.Duration);
        var traceIds = spans.Select(span => span.TraceId).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{trace.PaymentId}  trace {string.Join(", ", traceIds)}  {spans.Count} spans  {Ms(end - start)}");
        var tree = Tree(spans);
        var nameWidth = Math.Min(64, tree.Max(row => (row.Depth * 3) + row.Span.Name.Length + (row.Span.Error ? 2 : 0)));
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"START",10} {"DURATION",10}  {"SPAN".PadRight(nameWidth)}  WHERE");
        foreach (var (span, depth) in tree)
        {
            var name = (depth == 0 ? string.Empty : new string(' ', (depth - 1) * 3) + "└─ ") + span.Name + (span.Error ? " !" : string.Empty);
            text.AppendLine(CultureInfo.InvariantCulture, $"  {"+" + Ms(span.Start - start),10} {Ms(span.Duration),10}  {name.PadRight(nameWidth)}  {Where(span)}");
        }

        return text.ToString().TrimEnd();
    }

    private static string Ms(TimeSpan duration) => duration.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
