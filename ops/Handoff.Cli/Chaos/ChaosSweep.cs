using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Handoff.Cli.Commands;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Chaos;

/// <summary>One seed of a sweep: its report, or why the run gave none.</summary>
internal sealed record SweepRun(long Seed, bool Passed, ChaosReport? Report, string? Failure);

/// <summary>What <c>handoff chaos sweep</c> found: every run and the totals.</summary>
internal sealed record SweepReport(
    int Runs,
    int Passed,
    int Payments,
    int Refunds,
    IReadOnlyDictionary<string, int> Faults,
    IReadOnlyDictionary<string, int> Outcomes,
    IReadOnlyList<string> Violations,
    double Seconds,
    IReadOnlyList<SweepRun> Results);

/// <summary>
/// Runs <c>handoff chaos</c> for each seed in turn, each as a process of its own (so one run's end, however it ends,
/// never takes the sweep with it, and each is the very command line that replays it), a line per seed.
/// </summary>
internal static class ChaosSweep
{
    public static async Task<SweepReport> RunAsync(IReadOnlyList<long> seeds, ChaosSettings shape, TimeProvider time, Action<string> progress, CancellationToken cancellation)
    {
        var begun = time.GetTimestamp();
        var results = new List<SweepRun>();
        progress($"sweep of {seeds.Count} seeds: {shape.Topology.Storage.ToString().ToLowerInvariant()}, {shape.Topology.Hubs} hub(s), {shape.Topology.Payers} payers, {PlannedFault.Seconds(shape.Duration)} each");
        foreach (var seed in seeds)
        {
            var run = await RunOneAsync(seed, shape, cancellation);
            results.Add(run);
            var line = run.Report is { } report
                ? $"seed {seed}: {(run.Passed ? "passed" : $"FAILED, {report.Violations.Count} violation(s)")}, {report.Payments} payments, {FaultCounts(report.Faults)}, {report.Seconds:0} s"
                    + (run.Passed ? string.Empty : $"; kept in {report.Folder}; first: {report.Violations[0]}")
                : $"seed {seed}: FAILED: {run.Failure}";
            progress($"[{results.Count}/{seeds.Count}] {line}");
        }

        var reports = results.Select(run => run.Report).OfType<ChaosReport>().ToList();
        return new SweepReport(
            results.Count,
            results.Count(run => run.Passed),
            reports.Sum(report => report.Payments),
            reports.Sum(report => report.Refunds),
            Counts(reports.SelectMany(report => report.Faults).Select(fault => (fault.Skipped ? "skipped" : fault.Kind, 1))),
            Counts(reports.SelectMany(report => report.Outcomes).Select(pair => (pair.Key, pair.Value))),
            [.. results.SelectMany(run => run.Report?.Violations.Select(violation => $"seed {run.Seed}: {violation}") ?? (run.Failure is { } failure ? [$"seed {run.Seed}: {failure}"] : []))],
            Math.Round(time.GetElapsedTime(begun).TotalSeconds),
            results);
    }

    public static string Render(SweepReport sweep)
    {
        var text = new StringBuilder();
        foreach (var violation in sweep.Violations)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"VIOLATION: {violation}");
        }

        var faults = string.Join(", ", sweep.Faults.Select(pair => $"{pair.Value} {pair.Key}"));
        var outcomes = string.Join(", ", sweep.Outcomes.Select(pair => $"{pair.Value} {pair.Key}"));
        text.Append(CultureInfo.InvariantCulture, $"sweep: {sweep.Passed} of {sweep.Runs} runs passed; {sweep.Payments} payments ({outcomes}), {sweep.Refunds} refunds; ");
        text.Append(CultureInfo.InvariantCulture, $"{sweep.Faults.Where(pair => pair.Key != "skipped").Sum(pair => pair.Value)} faults ({faults}); {sweep.Violations.Count} violation(s); {sweep.Seconds:0} s");
        return text.ToString();
    }

    /// <summary>"12 faults (5 kill, 4 freeze, 3 restart)", those skipped counted apart.</summary>
    public static string FaultCounts(IReadOnlyList<FaultView> faults) =>
        $"{faults.Count(fault => !fault.Skipped)} faults ({string.Join(", ", Counts(faults.Select(fault => (fault.Skipped ? "skipped" : fault.Kind, 1))).Select(pair => $"{pair.Value} {pair.Key}"))})";

    private static Dictionary<string, int> Counts(IEnumerable<(string Key, int Count)> items) =>
        items.GroupBy(item => item.Key).OrderBy(group => group.Key, StringComparer.Ordinal).ToDictionary(group => group.Key, group => group.Sum(item => item.Count));

    private static async Task<SweepRun> RunOneAsync(long seed, ChaosSettings shape, CancellationToken cancellation)
    {
        var topology = shape.Topology;
        string[] args =
        [
            "chaos", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--duration", shape.Duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--storage", topology.Storage.ToString().ToLowerInvariant(), "--hubs", topology.Hubs.ToString(CultureInfo.InvariantCulture),
            "--payers", topology.Payers.ToString(CultureInfo.InvariantCulture), "--json",
        ];
        var start = SelfProcess.StartInfo(shape.Postgres is { } server ? [.. args, "--postgres", server] : args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var lastLines = new Queue<string>();
        process.OutputDataReceived += (_, line) =>
        {
            lock (stdout)
            {
                stdout.AppendLine(line.Data);
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            lock (lastLines)
            {
                if (line.Data is { } text)
                {
                    lastLines.Enqueue(text);
                    if (lastLines.Count > 5)
                    {
                        lastLines.Dequeue();
                    }
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            // The sweep is stopping: the run stops too, cleaning up its household, before the sweep ends.
            SelfProcess.Signal(process.Id, SelfProcess.SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(grace.Token).ContinueWith(_ => process.Kill(entireProcessTree: true), TaskScheduler.Default);
            throw;
        }

        try
        {
            var report = JsonSerializer.Deserialize<ChaosReport>(stdout.ToString(), HandoffJson.Options);
            if (report is { Seed: var reported } && reported == seed)
            {
                return new SweepRun(seed, report.Passed && process.ExitCode == 0, report, null);
            }
        }
        catch (JsonException)
        {
        }

        string tail;
        lock (lastLines)
        {
            tail = string.Join(" | ", lastLines);
        }

        return new SweepRun(seed, false, null, $"the run exited with {process.ExitCode} without a report: {stdout.ToString().ReplaceLineEndings(" ").Trim()} {tail}");
    }
}
