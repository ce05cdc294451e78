using HdrHistogram;
using ScottPlot;

namespace Handoff.Cli.Load;

/// <summary>The report's pictures: latency distribution, throughput over time and, in a soak, memory over time.</summary>
internal static class LoadPlots
{
    private const int Width = 1000;
    private const int Height = 500;
    private const int Buckets = 80;

    /// <summary>Writes the PNG files into <paramref name="folder"/> with names starting with <paramref name="prefix"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, string prefix, LoadReport report, LongHistogram latency)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>
        {
            Latency(Path.Combine(folder, $"{prefix}latency.png"), report, latency),
            Throughput(Path.Combine(folder, $"{prefix}throughput.png"), report),
        };
        if (report.Memory is not null)
        {
            written.Add(Memory(Path.Combine(folder, $"{prefix}memory.png"), report));
        }

        return written;
    }

    private static string Latency(string path, LoadReport report, LongHistogram latency)
    {
        var plot = new Plot();
        if (latency.TotalCount > 0)
        {
            // Linear buckets up to just past p99.9: the tail beyond is in the report's max.
            var top = Math.Max(1, latency.GetValueAtPercentile(99.9) * 1.1 / 1000.0);
            var width = top / Buckets;
            var counts = new double[Buckets];
            foreach (var value in latency.RecordedValues())
            {
                var bucket = (int)(value.ValueIteratedTo / 1000.0 / width);
                counts[Math.Min(bucket, Buckets - 1)] += value.CountAddedInThisIterationStep;
            }

            var positions = Enumerable.Range(0, Buckets).Select(i => (i + 0.5) * width).ToArray();
            var bars = plot.Add.Bars(positions, counts);
            foreach (var bar in bars.Bars)
            {
                bar.Size = width * 0.9;
            }

            foreach (var (name, value) in new[] { ("p50", report.LatencyMs.P50), ("p99", report.LatencyMs.P99), ("p99.9", report.LatencyMs.P999) })
            {
                var line = plot.Add.VerticalLine(value);
                line.LegendText = $"{name} {value:0.0} ms";
                line.LinePattern = LinePattern.Dashed;
            }

            plot.ShowLegend();
        }

        plot.Title($"Handoff latency ({report.Storage}, {report.Completed:N0} completed, concurrency {report.Concurrency})");
        plot.XLabel("request to Completed seen by the initiator (ms)");
        plot.YLabel("handoffs");
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Throughput(string path, LoadReport report)
    {
        var plot = new Plot();
        var seconds = report.Timeline.Select(s => s.Second).ToArray();
        if (seconds.Length > 0)
        {
            var completed = plot.Add.Scatter(seconds, report.Timeline.Select(s => (double)s.Completed).ToArray());
            completed.LegendText = "completed/s";
            completed.MarkerSize = 3;
            var errors = plot.Add.Scatter(seconds, report.Timeline.Select(s => (double)s.Errors).ToArray());
            errors.LegendText = "errors/s";
            errors.MarkerSize = 3;
            if (report.WarmupSeconds > 0)
            {
                var warmup = plot.Add.VerticalLine(report.WarmupSeconds);
                warmup.LegendText = "end of warm-up";
                warmup.LinePattern = LinePattern.Dashed;
            }

            plot.ShowLegend();
        }

        plot.Title($"Handoffs per second ({report.Storage}, mean {report.HandoffsPerSecond:N0}/s)");
        plot.XLabel("seconds into the run");
        plot.YLabel("handoffs per second");
        plot.Axes.SetLimitsY(0, Math.Max(1, report.Timeline.Count == 0 ? 1 : report.Timeline.Max(s => s.Completed) * 1.15));
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Memory(string path, LoadReport report)
    {
        var plot = new Plot();
        var done = 0.0;
        var completed = report.Timeline.Select(s => (done += s.Completed) / 1000.0).ToArray();
        var heap = plot.Add.Scatter(completed, report.Timeline.Select(s => s.GcHeapMb).ToArray());
        heap.LegendText = "GC heap (MB)";
        heap.MarkerSize = 2;
        var rss = plot.Add.Scatter(completed, report.Timeline.Select(s => s.WorkingSetMb).ToArray());
        rss.LegendText = "working set (MB)";
        rss.MarkerSize = 2;
        var withLive = report.Timeline.Select((s, i) => (s, i)).Where(p => p.s.LiveHeapMb is not null).ToList();
        if (withLive.Count > 0)
        {
            var live = plot.Add.Scatter(withLive.Select(p => completed[p.i]).ToArray(), withLive.Select(p => p.s.LiveHeapMb!.Value).ToArray());
            live.LegendText = "live heap after full GC (MB)";
            live.MarkerSize = 5;
        }

        var withActivations = report.Timeline.Select((s, i) => (s, i)).Where(p => p.s.Activations is not null).ToList();
        if (withActivations.Count > 0)
        {
            var activations = plot.Add.Scatter(
                withActivations.Select(p => completed[p.i]).ToArray(),
                withActivations.Select(p => p.s.Activations!.Value / 1000.0).ToArray());
            activations.LegendText = "activations (thousands)";
            activations.MarkerSize = 2;
        }

        plot.ShowLegend();
        plot.Title($"Soak: process memory over {report.Completed:N0} handoffs ({report.Storage})");
        plot.XLabel("completed handoffs (thousands)");
        plot.YLabel("MB / thousands");
        plot.SavePng(path, Width, Height);
        return path;
    }
}
