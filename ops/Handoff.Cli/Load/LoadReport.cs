using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Handoff.Cli.Load;

/// <summary>Latency percentiles of completed handoffs, in milliseconds.</summary>
internal sealed record LatencyReport(double P50, double P90, double P99, double P999, double Max, double Mean)
{
    public static LatencyReport Of(HdrHistogram.LongHistogram micros)
    {
        static double Ms(long value) => Math.Round(value / 1000.0, 2);
        return micros.TotalCount == 0
            ? new LatencyReport(0, 0, 0, 0, 0, 0)
            : new LatencyReport(
                Ms(micros.GetValueAtPercentile(50)),
                Ms(micros.GetValueAtPercentile(90)),
                Ms(micros.GetValueAtPercentile(99)),
                Ms(micros.GetValueAtPercentile(99.9)),
                Ms(micros.GetValueAtPercentile(100)),
                Math.Round(MeanMicros(micros) / 1000.0, 2));
    }

    private static double MeanMicros(HdrHistogram.LongHistogram latency)
    {
        double sum = 0;
        foreach (var value in latency.RecordedValues())
        {
            sum += value.ValueIteratedTo * (double)value.CountAtValueIteratedTo;
        }

        return sum / latency.TotalCount;
    }
}

/// <summary>Process memory over a soak: whether it stays flat once warm.</summary>
internal sealed record MemoryReport(double GcHeapStartMb, double GcHeapEndMb, double GcHeapPeakMb, double WorkingSetEndMb, double? LiveHeapFirstMb, double? LiveHeapLastMb, double GcHeapSlopeMbPer100k, long? ActivationsPeak, long? ActivationsEnd, bool Flat);

/// <summary>The final report of a load run.</summary>
internal sealed record LoadReport(
    string Settings,
    string Storage,
    int Households,
    int PayerDevices,
    int Concurrency,
    double PinShare,
    double Seconds,
    double WarmupSeconds,
    long Completed,
    long CompletedMeasured,
    long Errors,
    double HandoffsPerSecond,
    LatencyReport LatencyMs,
    LatencyReport TimeToSheetMs,
    LatencyReport ApproveToResultMs,
    IReadOnlyDictionary<string, long> ErrorsByReason,
    IReadOnlyDictionary<string, long> PayerProblems,
    long HandoffGrainCalls,
    double GrainCallsPerHandoff,
    double CpuMicrosPerHandoff,
    double KilobytesPerHandoff,
    LedgerCheckResult Ledger,
    MemoryReport? Memory,
    IReadOnlyList<LoadSample> Timeline)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static LoadReport From(LoadSettings settings, LoadHousehold household, LoadOutcome outcome, LedgerCheckResult ledger)
    {
        var seconds = outcome.Measured.TotalSeconds;
        return new LoadReport(
            settings.Describe(),
            settings.Target is null ? settings.Storage.ToString().ToLowerInvariant() : "running",
            settings.Households,
            settings.Households * settings.PayersPerHousehold,
            settings.Concurrency,
            settings.PinShare,
            Math.Round(seconds, 2),
            settings.Warmup.TotalSeconds,
            outcome.Completed,
            outcome.CompletedMeasured,
            outcome.Errors.Values.Sum(),
            Math.Round(outcome.CompletedMeasured / seconds, 1),
            LatencyReport.Of(outcome.Latency),
            LatencyReport.Of(outcome.TimeToSheet),
            LatencyReport.Of(outcome.ApproveToResult),
            outcome.Errors,
            new Dictionary<string, long>(household.Probe.ApprovalProblems),
            outcome.HandoffGrainCalls,
            outcome.Completed == 0 ? 0 : Math.Round(outcome.HandoffGrainCalls / (double)(outcome.Completed + outcome.Errors.Values.Sum()), 1),
            outcome.CompletedMeasured == 0 ? 0 : Math.Round(outcome.MeasuredCpu.TotalMicroseconds / outcome.CompletedMeasured, 0),
            outcome.CompletedMeasured == 0 ? 0 : Math.Round(outcome.MeasuredAllocations / 1024.0 / outcome.CompletedMeasured, 1),
            ledger,
            settings.Soak ? MemoryOf(outcome.Timeline) : null,
            outcome.Timeline);
    }

    /// <summary>
    /// Memory judged over the second half of the run, once caches and pools are warm: the least-squares
    /// slope of the GC heap against completed handoffs. Flat unless it rises by 5 MB or more per 100,000
    /// handoffs; a falling heap (caches trimmed, pools given back) is not growth.
    /// </summary>
    internal static MemoryReport? MemoryOf(IReadOnlyList<LoadSample> timeline)
    {
        if (timeline.Count < 4)
        {
            return null;
        }

        // The live heap (after a forced full collection every 10 s) when sampled, else the heap as it stands.
        var cumulative = new List<(double Done, double Heap)>();
        var lives = new List<(double Done, double Heap)>();
        var done = 0.0;
        foreach (var sample in timeline)
        {
            done += sample.Completed;
            cumulative.Add((done, sample.GcHeapMb));
            if (sample.LiveHeapMb is { } live)
            {
                lives.Add((done, live));
            }
        }

        if (lives.Count >= 4)
        {
            cumulative = lives;
        }

        var half = cumulative.Skip(cumulative.Count / 2).ToList();
        var meanX = half.Average(p => p.Done);
        var meanY = half.Average(p => p.Heap);
        var sxx = half.Sum(p => (p.Done - meanX) * (p.Done - meanX));
        var slope = sxx == 0 ? 0 : half.Sum(p => (p.Done - meanX) * (p.Heap - meanY)) / sxx * 100_000;
        var activations = timeline.Where(s => s.Activations is not null).Select(s => s.Activations!.Value).ToList();
        return new MemoryReport(
            Math.Round(timeline[0].GcHeapMb, 1),
            Math.Round(timeline[^1].GcHeapMb, 1),
            Math.Round(timeline.Max(s => s.GcHeapMb), 1),
            Math.Round(timeline[^1].WorkingSetMb, 1),
            lives.Count > 0 ? lives[0].Heap : null,
            lives.Count > 0 ? lives[^1].Heap : null,
            Math.Round(slope, 2),
            activations.Count > 0 ? activations.Max() : null,
            activations.Count > 0 ? activations[^1] : null,
            Flat: slope < 5);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToText()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"load: {Settings}");
        var warm = WarmupSeconds > 0 ? string.Create(c, $" (after {WarmupSeconds:0} s warm-up; {Completed:N0} in all)") : "";
        text.AppendLine(c, $"  completed       {CompletedMeasured:N0} handoffs in {Seconds:0.0} s = {HandoffsPerSecond:N0}/s{warm}");
        text.AppendLine(c, $"  latency (ms)    p50 {LatencyMs.P50:0.0}  p90 {LatencyMs.P90:0.0}  p99 {LatencyMs.P99:0.0}  p99.9 {LatencyMs.P999:0.0}  max {LatencyMs.Max:0.0}");
        text.AppendLine(c, $"  to sheet (ms)   p50 {TimeToSheetMs.P50:0.0}  p90 {TimeToSheetMs.P90:0.0}  p99 {TimeToSheetMs.P99:0.0}  (pay -> offer on the payer's sheet)");
        text.AppendLine(c, $"  to result (ms)  p50 {ApproveToResultMs.P50:0.0}  p90 {ApproveToResultMs.P90:0.0}  p99 {ApproveToResultMs.P99:0.0}  (approve -> outcome seen by the initiator)");
        var reasons = string.Join(", ", ErrorsByReason.Select(e => string.Create(c, $"{e.Key}: {e.Value:N0}")));
        text.AppendLine(c, $"  errors          {Errors:N0}  {reasons}");
        if (PayerProblems.Count > 0)
        {
            text.AppendLine(c, $"  on payers       {string.Join(", ", PayerProblems.Select(e => string.Create(c, $"{e.Key}: {e.Value:N0}")))}");
        }

        var counted = Storage == "running" ? ", on this process's payer silo only: the hub's are its own" : "";
        text.AppendLine(c, $"  grain calls     {HandoffGrainCalls:N0} ({GrainCallsPerHandoff:0.0} per handoff{counted})");
        var whose = Storage == "running" ? "this process: the payer silo and the initiators, not the hub" : "the whole household in this process, every core";
        text.AppendLine(c, $"  per handoff     {CpuMicrosPerHandoff:N0} µs of processor, {KilobytesPerHandoff:N1} KB allocated ({whose})");
        text.AppendLine(c, $"  ledger          {(Ledger.Clean ? "clean" : "VIOLATIONS")}: {Ledger.Charges:N0} charges in {Ledger.Households} ledgers, {Ledger.CompletedSeen:N0} completed seen, {Ledger.PaymentsReread} payments re-read");
        foreach (var violation in Ledger.Violations)
        {
            text.AppendLine(c, $"    {violation}");
        }

        if (Memory is { } memory)
        {
            text.AppendLine(c, $"  memory          GC heap {memory.GcHeapStartMb:0} -> {memory.GcHeapEndMb:0} MB (peak {memory.GcHeapPeakMb:0}), working set {memory.WorkingSetEndMb:0} MB, live heap {memory.LiveHeapFirstMb:0} -> {memory.LiveHeapLastMb:0} MB, slope {memory.GcHeapSlopeMbPer100k:0.0} MB per 100k handoffs: {(memory.Flat ? "flat" : "GROWING")}");
            text.AppendLine(c, $"  activations     peak {memory.ActivationsPeak:N0}, end {memory.ActivationsEnd:N0}");
        }

        return text.ToString();
    }
}
