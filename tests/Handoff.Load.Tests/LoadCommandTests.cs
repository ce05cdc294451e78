using System.Text.Json;
using Handoff.Cli.Commands;
using Handoff.Cli.Load;
using Handoff.Silo.Hosting;

namespace Handoff.Load.Tests;

/// <summary>Smoke runs of <c>handoff load</c>: a few seconds of real handoffs, a clean ledger, the report and the plots.</summary>
public sealed class LoadCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-load-tests-").FullName;

    [Theory]
    [InlineData(240, -6, true)]
    [InlineData(240, 0, true)]
    [InlineData(240, 4, true)]
    [InlineData(240, 8, false)]
    public void Soak_memory_is_flat_unless_the_live_heap_rises_by_5_MB_per_100k_handoffs(double liveHeapMb, double mbPer100k, bool flat)
    {
        // 40 samples of 10,000 handoffs each; the live heap moves by mbPer100k over every 100,000 of them.
        var timeline = Enumerable.Range(0, 40)
            .Select(i => new LoadSample(i, 10_000, 0, 128, 50, 300, 600, 20_000, liveHeapMb + (mbPer100k * i / 10)))
            .ToList();

        var memory = LoadReport.MemoryOf(timeline)!;

        Assert.Equal(mbPer100k, memory.GcHeapSlopeMbPer100k, precision: 1);
        Assert.Equal(flat, memory.Flat);
    }

    [Fact]
    public async Task A_short_load_run_completes_handoffs_with_a_clean_ledger_and_writes_its_report_and_plots()
    {
        var report = Path.Combine(_folder, "report.json");
        var plots = Path.Combine(_folder, "plots");

        var exitCode = await HandoffCommands.Build()
            .Parse(["load", "--households", "4", "--payers", "2", "--concurrency", "16", "--duration", "3", "--warmup", "1", "--pin-share", "0.05", "--report", report, "--plots", plots])
            .InvokeAsync();

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var root = json.RootElement;
        var completed = root.GetProperty("completed").GetInt64();
        Assert.True(completed > 0, "no handoff completed");
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.True(root.GetProperty("ledger").GetProperty("clean").GetBoolean(), root.GetProperty("ledger").ToString());
        Assert.Equal(completed, root.GetProperty("ledger").GetProperty("charges").GetInt64());
        Assert.True(root.GetProperty("latencyMs").GetProperty("p99").GetDouble() > 0);

        // The two waits a household feels, each a part of the whole handoff.
        var whole = root.GetProperty("latencyMs").GetProperty("max").GetDouble();
        foreach (var phase in new[] { "timeToSheetMs", "approveToResultMs" })
        {
            var p50 = root.GetProperty(phase).GetProperty("p50").GetDouble();
            var p99 = root.GetProperty(phase).GetProperty("p99").GetDouble();
            Assert.True(p50 > 0 && p50 <= p99 && p99 <= whole, $"{phase}: p50 {p50}, p99 {p99}, whole handoff at most {whole} ms");
        }
        Assert.True(new FileInfo(Path.Combine(plots, "memory-latency.png")).Length > 0);
        Assert.True(new FileInfo(Path.Combine(plots, "memory-throughput.png")).Length > 0);
    }

    [Fact]
    public async Task A_durable_run_on_sqlite_charges_each_completed_payment_exactly_once()
    {
        var settings = new LoadSettings
        {
            Households = 3,
            PayersPerHousehold = 2,
            Concurrency = 8,
            Count = 60,
            Storage = HubStorageKind.Sqlite,
            DataDirectory = Path.Combine(_folder, "data"),
        };

        var (report, _) = await LoadSession.RunAsync(settings, progress: null, CancellationToken.None);

        Assert.Equal(60, report.Completed);
        Assert.Equal(0, report.Errors);
        Assert.True(report.Ledger.Clean, string.Join("; ", report.Ledger.Violations));
        Assert.Equal(60, report.Ledger.Charges);
        Assert.True(report.TimeToSheetMs.P99 > 0 && report.ApproveToResultMs.P99 > 0, "the phases of a durable handoff were not measured");
    }

    [Fact]
    public async Task An_open_loop_that_falls_behind_reports_its_backlog_as_latency()
    {
        // 100,000 slots a second against 4 in flight: every slot lies in the first second, long before the
        // warm-up ends, and each handoff ends far behind its slot.
        var settings = new LoadSettings
        {
            Households = 2,
            PayersPerHousehold = 2,
            Concurrency = 4,
            Rate = 100_000,
            Duration = TimeSpan.FromSeconds(4),
            Warmup = TimeSpan.FromSeconds(2),
        };

        var (report, _) = await LoadSession.RunAsync(settings, progress: null, CancellationToken.None);

        Assert.True(report.CompletedMeasured > 0, "no handoff ended after the warm-up");
        Assert.Equal(0, report.Errors);
        Assert.True(report.LatencyMs.P50 >= 1_000, $"p50 {report.LatencyMs.P50} ms does not show a backlog of more than a second");
        Assert.True(report.Ledger.Clean, string.Join("; ", report.Ledger.Violations));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
