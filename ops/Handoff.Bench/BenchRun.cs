using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Handoff.Cli.Load;
using Handoff.Contracts.Security;
using Handoff.Silo.Hosting;
using Handoff.Testing;
using HdrHistogram;
using Npgsql;

namespace Handoff.Bench;

/// <summary>One measured phase of the bench.</summary>
internal sealed record BenchPhase(string Name, double PerSecond, double P50Ms, double P99Ms, double P999Ms, long Errors, double? CallsPerHandoff, bool? LedgerClean, string Note);

/// <summary>
/// The whole bench in one run on this machine: the Orleans ceiling (a ping grain), handoffs in each storage
/// mode, and PostgreSQL's own pgbench on the same throwaway server, with the ratios between them.
/// </summary>
internal static partial class BenchRun
{
    /// <summary>The in-memory target of the issue: 5,000 handoffs a second with p99 under 50 ms.</summary>
    private const double MemoryTargetRate = 5_000;

    /// <summary>The grain calls every handoff needs whatever the design: the request, the offer, the approval, the charge.</summary>
    private const int UnavoidableCalls = 4;

    /// <summary>The share of payments traced in every phase but the two that measure tracing's cost: a busy deployment's setting.</summary>
    private const double BenchSampleRatio = 0.01;

    /// <summary>In-flight cap of the open loop: high enough that only a real backlog reaches it.</summary>
    private const int OpenLoopCap = 4_096;

    /// <summary>A busy household's rate, at which the two waits a person feels are judged (each p99 at most <see cref="BusyHouseholdP99Ms"/>).</summary>
    private const double BusyHouseholdRate = 20;

    private const double BusyHouseholdP99Ms = 25;

    /// <summary>The bench's options with their defaults; anything else on the command line is refused.</summary>
    private static readonly (string Name, string Value, string Help)[] Options =
    [
        ("--seconds", "8", "seconds measured per phase"),
        ("--warmup", "20", "seconds of each handoff phase left out of its figures (the JIT tiers the cold paths meanwhile)"),
        ("--concurrency", "256", "handoffs kept in flight in the closed-loop phases"),
        ("--households", "50", "simulated households"),
        ("--payers", "4", "simulated payer devices per household"),
        ("--out", "bench-results", "folder for bench.md, bench.json, the load reports and plots"),
        ("--skip-postgres", "", "leave out the PostgreSQL phases and pgbench"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine("usage: dotnet run -c Release --project ops/Handoff.Bench -- [options]");
            Console.WriteLine("Runs every phase in one process and prints the figures, their ratios and the targets (about 4 minutes).");
            foreach (var (name, value, help) in Options)
            {
                Console.WriteLine(value.Length > 0 ? $"  {name} {(name == "--out" ? "DIR" : "N")}".PadRight(22) + $"{help} (default {value})" : $"  {name}".PadRight(22) + help);
            }

            return 0;
        }

        if (Problem(args) is { } problem)
        {
            Console.Error.WriteLine($"error: {problem} (see --help)");
            return 2;
        }

        var seconds = Argument(args, "--seconds", 8);

        // Each storage mode has its own cold paths (Npgsql, the ADO.NET provider, SQLite): a PostgreSQL run climbs
        // from about 300 to over 1,000 handoffs/s in its first 20 s while the JIT tiers them, so each handoff phase
        // leaves out this much of its start and reports the steady state.
        var warmup = Argument(args, "--warmup", 20);
        var concurrency = (int)Argument(args, "--concurrency", 256);
        var households = (int)Argument(args, "--households", 50);
        var payers = (int)Argument(args, "--payers", 4);
        var output = StringArgument(args, "--out") ?? "bench-results";
        var skipPostgres = args.Contains("--skip-postgres");
        Directory.CreateDirectory(output);

        var machine = Machine();
        Console.WriteLine($"bench: {machine}");
        Console.WriteLine($"bench: {seconds:0} s per phase after {warmup:0} s of warm-up, concurrency {concurrency}, {households} households x {payers} payers, output {Path.GetFullPath(output)}");
        var settings = new LoadSettings
        {
            SampleRatio = BenchSampleRatio,
            Households = households,
            PayersPerHousehold = payers,
            Concurrency = concurrency,
            Duration = TimeSpan.FromSeconds(seconds),
            Warmup = TimeSpan.FromSeconds(warmup),
        };

        // One unreported run first: the JIT's tiering of Orleans, the grains and the serializers is done once for every phase.
        Console.WriteLine("bench: warming up (memory, not reported) ...");
        await using (var warm = await LoadHousehold.StartAsync(settings, CancellationToken.None))
        {
            await new LoadRunner(warm, settings with { Warmup = TimeSpan.Zero, Duration = TimeSpan.FromSeconds(8) }, null).RunAsync(CancellationToken.None);
        }

        var phases = new List<BenchPhase> { await PingAsync(settings, seconds) };
        var signatureMicros = SignatureMicrosPerHandoff();
        var memory = await HandoffAsync(settings with { Storage = HubStorageKind.Memory }, output, null);
        phases.Add(memory.Phase);

        // The silos trace as a real household's do; what that costs is the memory rate with no payment traced and with every one.
        var untraced = (await HandoffAsync(settings with { Storage = HubStorageKind.Memory, SampleRatio = 0 }, output, null, "memory-trace0")).Phase;
        phases.Add(untraced);
        var traced = (await HandoffAsync(settings with { Storage = HubStorageKind.Memory, SampleRatio = 1 }, output, null, "memory-trace1")).Phase;
        phases.Add(traced);

        // The latency target is for a rate, not for a queue: with 256 always in flight, Little's law alone puts the
        // mean latency at 256 / rate (51 ms at 5,000/s). So the target is judged in an open loop that starts 5,000
        // handoffs a second, latency counted from each one's scheduled start (a backlog shows as latency).
        var atTarget = await HandoffAsync(
            settings with { Storage = HubStorageKind.Memory, Rate = MemoryTargetRate, Concurrency = OpenLoopCap },
            output,
            null,
            "memory-rate5000");
        phases.Add(atTarget.Phase);
        var sqlite = (await HandoffAsync(settings with { Storage = HubStorageKind.Sqlite }, output, null)).Phase;
        phases.Add(sqlite);

        // A busy household, not a queue: 20 handoffs a second on the embedded default, and the two waits a person feels.
        var busy = (await HandoffAsync(
            settings with { Storage = HubStorageKind.Sqlite, Rate = BusyHouseholdRate, Concurrency = 64 },
            output,
            null,
            "sqlite-rate20")).Report;
        phases.Add(new BenchPhase(
            string.Create(CultureInfo.InvariantCulture, $"handoffs, sqlite, open loop at {BusyHouseholdRate:0}/s (a busy household), tracing {BenchSampleRatio}"),
            busy.HandoffsPerSecond,
            busy.LatencyMs.P50,
            busy.LatencyMs.P99,
            busy.LatencyMs.P999,
            busy.Errors,
            busy.GrainCallsPerHandoff,
            busy.Ledger.Clean,
            string.Create(CultureInfo.InvariantCulture, $"to sheet p50/p99 {busy.TimeToSheetMs.P50:0.0}/{busy.TimeToSheetMs.P99:0.0} ms, approve to result p50/p99 {busy.ApproveToResultMs.P50:0.0}/{busy.ApproveToResultMs.P99:0.0} ms")));
        BenchPhase? postgres = null;
        BenchPhase? pgbench = null;
        BenchPhase? pgbenchOff = null;
        double? writesPerHandoff = null;
        double? commitsPerHandoff = null;
        if (!skipPostgres)
        {
            await using var server = new PostgresServer { Settings = PostgresSettings };
            await server.InitializeAsync();
            var database = await server.CreateDatabaseAsync("handoff_bench");
            var durable = await HandoffAsync(settings with { Storage = HubStorageKind.Postgres, Postgres = database }, output, database);
            postgres = durable.Phase;
            writesPerHandoff = durable.WritesPerHandoff;
            commitsPerHandoff = durable.CommitsPerHandoff;
            phases.Add(postgres);
            pgbench = await PgbenchAsync(server, seconds, durable: true);
            phases.Add(pgbench);
            pgbenchOff = await PgbenchAsync(server, seconds, durable: false);
            phases.Add(pgbenchOff);
        }

        var ping = phases[0];
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"| phase | per second | p50 ms | p99 ms | p99.9 ms | errors | grain calls / handoff | ledger | note |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
        foreach (var phase in phases)
        {
            text.AppendLine(c, $"| {phase.Name} | {phase.PerSecond:N0} | {phase.P50Ms:0.0} | {phase.P99Ms:0.0} | {phase.P999Ms:0.0} | {phase.Errors:N0} | {(phase.CallsPerHandoff is { } calls ? calls.ToString("0.0", c) : "")} | {(phase.LedgerClean is { } clean ? (clean ? "clean" : "VIOLATIONS") : "")} | {phase.Note} |");
        }

        // The unavoidable work of one handoff: its signatures, and the grain calls no design can drop (request, offer,
        // approval, charge). A ping's cost is what the cores spend per call at the ping ceiling.
        var cores = Environment.ProcessorCount;
        var pingMicros = cores * 1_000_000 / Math.Max(1, ping.PerSecond);
        var bound = cores * 1_000_000 / (signatureMicros + (UnavoidableCalls * pingMicros));
        text.AppendLine();
        text.AppendLine(c, $"- one handoff's signatures (3 ECDSA P-256 signatures on the devices: request, approval, WebAuthn assertion; 3 checks on the hub) cost {signatureMicros:0} µs of a core, a grain call {pingMicros:0.0} µs (ping ceiling {ping.PerSecond:N0} calls/s): the bound is {cores} cores ÷ ({signatureMicros:0} µs + {UnavoidableCalls} × {pingMicros:0.0} µs) = {bound:N0} handoffs/s");
        var shares = string.Create(c, $"- memory: {memory.Phase.PerSecond:N0}/s = {memory.Phase.PerSecond / bound:P0} of the bound; SQLite: {sqlite.PerSecond:N0}/s = {sqlite.PerSecond / bound:P0} of the bound, {sqlite.PerSecond / Math.Max(1, memory.Phase.PerSecond):P0} of memory");
        if (postgres is not null)
        {
            shares += string.Create(c, $"; PostgreSQL: {postgres.PerSecond:N0}/s = {postgres.PerSecond / bound:P0} of the bound, {postgres.PerSecond / Math.Max(1, memory.Phase.PerSecond):P0} of memory");
        }

        text.AppendLine(shares);
        var costAtBench = 1 - (memory.Phase.PerSecond / Math.Max(1, untraced.PerSecond));
        var costAtAll = 1 - (traced.PerSecond / Math.Max(1, untraced.PerSecond));
        text.AppendLine(c, $"- tracing (Handoff:Tracing:SampleRatio), memory: 0 → {untraced.PerSecond:N0}/s; {BenchSampleRatio} → {memory.Phase.PerSecond:N0}/s (costs {costAtBench:P1}); 1 → {traced.PerSecond:N0}/s (costs {costAtAll:P1}); target, cost at {BenchSampleRatio} < 5 %: {Verdict(costAtBench < 0.05)}");
        var target = atTarget.Phase;
        text.AppendLine(c, $"- target, memory: >= 60 % of the bound: {Verdict(memory.Phase.PerSecond >= 0.6 * bound)}; open loop at {MemoryTargetRate:N0}/s with p99 < 50 ms (asked where the bound exceeds 8,000/s): {(bound > 8_000 ? Verdict(target.PerSecond >= MemoryTargetRate * 0.99 && target.P99Ms < 50) : "not asked")} ({target.PerSecond:N0}/s completed, p99 {target.P99Ms:0.0} ms)");
        text.AppendLine(c, $"- target, SQLite (synchronous=FULL): >= 50 % of memory: {Verdict(sqlite.PerSecond >= 0.5 * memory.Phase.PerSecond)}");
        text.AppendLine(c, $"- target, SQLite at {BusyHouseholdRate:0}/s: time to sheet p99 {busy.TimeToSheetMs.P99:0.0} ms and approve to result p99 {busy.ApproveToResultMs.P99:0.0} ms, each <= {BusyHouseholdP99Ms:0} ms: {Verdict(busy.TimeToSheetMs.P99 <= BusyHouseholdP99Ms && busy.ApproveToResultMs.P99 <= BusyHouseholdP99Ms)}");
        if (postgres is not null && pgbench is not null)
        {
            text.AppendLine(c, $"- one handoff needs {writesPerHandoff:0.0} row writes in {commitsPerHandoff:0.0} transactions (pg_stat_database); a pgbench transaction is 3 updates + 1 insert + 1 select");
            if (commitsPerHandoff is > 0 and var commits)
            {
                var allowed = pgbench.PerSecond / commits;
                text.AppendLine(c, $"- pgbench's {pgbench.PerSecond:N0} TPS (synchronous_commit on; {pgbenchOff?.PerSecond ?? 0:N0} with it off, pgbench only) allow {allowed:N0} handoffs/s at {commits:0.0} transactions each; measured {postgres.PerSecond:N0}/s = {postgres.PerSecond / allowed:P0} of that");
                text.AppendLine(c, $"- target, PostgreSQL (synchronous_commit on): >= 40 % of memory: {Verdict(postgres.PerSecond >= 0.4 * memory.Phase.PerSecond)}; more than pgbench allows: {Verdict(postgres.PerSecond > allowed)}");
            }
        }

        Console.WriteLine();
        Console.Write(text);
        await File.WriteAllTextAsync(Path.Combine(output, "bench.md"), $"{machine}\n\n{text}");
        await File.WriteAllTextAsync(
            Path.Combine(output, "bench.json"),
            JsonSerializer.Serialize(new { machine, seconds, warmup, concurrency, households, payers, phases, writesPerHandoff, commitsPerHandoff, signatureMicrosPerHandoff = Math.Round(signatureMicros, 1) }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        return phases.All(phase => phase.LedgerClean != false) ? 0 : 1;
    }

    /// <summary>
    /// CPU of the signature work of one handoff on one thread: the initiator signs its request, the payer device its
    /// approval and its platform authenticator the WebAuthn assertion (every bench handoff is a biometric approval),
    /// and the hub checks all three. The least any handoff costs while invariant 4 holds and the person is verified.
    /// </summary>
    private static double SignatureMicrosPerHandoff()
    {
        using var initiator = Signing.NewKey();
        using var payer = Signing.NewKey();
        using var authenticator = Signing.NewKey();
        var statements = new (ECDsa Key, byte[] PublicKey, byte[] Statement)[]
        {
            (initiator, Signing.PublicKeyOf(initiator), Encoding.UTF8.GetBytes("request/v1 " + new string('x', 180))),
            (payer, Signing.PublicKeyOf(payer), Encoding.UTF8.GetBytes("approval/v2 " + new string('y', 220))),
            (authenticator, Signing.PublicKeyOf(authenticator), Encoding.UTF8.GetBytes("webauthn " + new string('z', 37 + 32))),
        };
        var rounds = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(2) || rounds < 100)
        {
            foreach (var (key, publicKey, statement) in statements)
            {
                if (!Signing.Verify(publicKey, statement, key.SignData(statement, HashAlgorithmName.SHA256)))
                {
                    throw new InvalidOperationException("a signature made here did not verify");
                }
            }

            rounds++;
        }

        var micros = clock.Elapsed.TotalMicroseconds / rounds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: signatures {micros:0} µs per handoff on one core ({rounds:N0} rounds of {statements.Length} signatures and checks)"));
        return micros;
    }

    private static string Verdict(bool met) => met ? "met" : "NOT met";

    private static async Task<BenchPhase> PingAsync(LoadSettings settings, double seconds)
    {
        Console.WriteLine("bench: ping ceiling (the same hub and payer silos, a trivial grain on the hub) ...");
        await using var household = await LoadHousehold.StartAsync(settings with { Households = 1, PayersPerHousehold = 1 }, CancellationToken.None);
        var histogram = new LongHistogram(60_000_000, 3);
        var calls = 0L;
        var errors = 0L;
        var measuring = false;
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(2);
        var end = warmup + TimeSpan.FromSeconds(seconds);
        var measuredFrom = TimeSpan.Zero;
        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(worker => Task.Run(async () =>
        {
            var grain = household.Client.GetGrain<IPingGrain>(worker % 1024);
            while (clock.Elapsed < end)
            {
                var start = clock.ElapsedTicks;
                try
                {
                    await grain.PingAsync(worker);
                }
                catch (Exception exception) when (exception is TimeoutException or OrleansException)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }

                if (!Volatile.Read(ref measuring) && clock.Elapsed >= warmup)
                {
                    lock (histogram)
                    {
                        if (!measuring)
                        {
                            measuredFrom = clock.Elapsed;
                            Volatile.Write(ref measuring, true);
                        }
                    }
                }

                if (Volatile.Read(ref measuring))
                {
                    Interlocked.Increment(ref calls);
                    var micros = (clock.ElapsedTicks - start) * 1_000_000 / Stopwatch.Frequency;
                    lock (histogram)
                    {
                        histogram.RecordValue(Math.Min(micros, histogram.HighestTrackableValue));
                    }
                }
            }
        })));
        var rate = calls / (clock.Elapsed - measuredFrom).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: ping {rate:N0} calls/s"));
        return new BenchPhase("ping grain (client -> hub)", Math.Round(rate), Ms(histogram, 50), Ms(histogram, 99), Ms(histogram, 99.9), errors, null, null, $"{settings.Concurrency} callers, 2 s warm-up");
    }

    private static async Task<(BenchPhase Phase, double? WritesPerHandoff, double? CommitsPerHandoff, LoadReport Report)> HandoffAsync(LoadSettings settings, string output, string? database, string? label = null)
    {
        var name = label ?? settings.Storage.ToString().ToLowerInvariant();
        Console.WriteLine($"bench: handoffs, storage {name} ...");
        await using var household = await LoadHousehold.StartAsync(settings, CancellationToken.None);
        var before = database is null ? null : await DatabaseWritesAsync(database);
        var outcome = await new LoadRunner(household, settings, line => Console.WriteLine("  " + line)).RunAsync(CancellationToken.None);
        var after = database is null ? null : await DatabaseWritesAsync(database);
        var ledger = await LedgerCheck.RunAsync(household, outcome);
        var report = LoadReport.From(settings, household, outcome, ledger);
        await File.WriteAllTextAsync(Path.Combine(output, $"bench-{name}.json"), report.ToJson());
        LoadPlots.Write(output, $"bench-{name}-", report, outcome.Latency);
        Console.Write(report.ToText());
        var handoffs = Math.Max(1, outcome.Completed + report.Errors);
        return (
            new BenchPhase(
                (settings.Rate is { } rate ? $"handoffs, {settings.Storage.ToString().ToLowerInvariant()}, open loop at {rate:N0}/s" : $"handoffs, {settings.Storage.ToString().ToLowerInvariant()}")
                    + string.Create(CultureInfo.InvariantCulture, $", tracing {settings.SampleRatio:0.##}"),
                report.HandoffsPerSecond,
                report.LatencyMs.P50,
                report.LatencyMs.P99,
                report.LatencyMs.P999,
                report.Errors,
                report.GrainCallsPerHandoff,
                ledger.Clean,
                $"{(settings.Rate is null ? $"{settings.Concurrency} in flight" : $"at most {settings.Concurrency:N0} in flight")}, biometric, {report.CompletedMeasured:N0} measured"),
            after is null ? null : (after.Value.Rows - before!.Value.Rows) / (double)handoffs,
            after is null ? null : (after.Value.Commits - before!.Value.Commits) / (double)handoffs,
            report);
    }

    /// <summary>Row writes and commits of the database so far; idle connections are closed first so their statistics are flushed.</summary>
    private static async Task<(long Rows, long Commits)?> DatabaseWritesAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT tup_inserted + tup_updated + tup_deleted, xact_commit FROM pg_stat_database WHERE datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The server both the handoff phase and pgbench run on: durable commits (as ever), room for 16 pgbench clients and the silos' pools.</summary>
    private static readonly IReadOnlyList<string> PostgresSettings = [.. PostgresServer.DurableSettings, "max_connections=300", "shared_buffers=256MB"];

    /// <param name="durable">
    /// False for the reference figure only: pgbench's own sessions then commit without waiting for the disk
    /// (PGOPTIONS, never the server's setting, which the handoffs run on).
    /// </param>
    private static async Task<BenchPhase> PgbenchAsync(PostgresServer server, double seconds, bool durable)
    {
        var commit = durable ? "on" : "off";
        Console.WriteLine($"bench: pgbench (TPC-B-like, scale 10, 16 clients, prepared, synchronous_commit {commit}) on the same server ...");
        if (durable)
        {
            await server.CreateDatabaseAsync("pgbench");
            await server.ClientAsync("pgbench", ["-i", "-s", "10", "-q", "pgbench"], TimeSpan.FromMinutes(10));
        }

        var text = await server.ClientAsync(
            "pgbench",
            ["-c", "16", "-j", "2", "-T", seconds.ToString("0", CultureInfo.InvariantCulture), "-M", "prepared", "pgbench"],
            TimeSpan.FromSeconds(seconds + 120),
            new Dictionary<string, string> { ["PGOPTIONS"] = "-c synchronous_commit=" + commit });
        var tps = double.Parse(Tps().Match(text).Groups[1].Value, CultureInfo.InvariantCulture);
        var latency = Latency().Match(text) is { Success: true } match ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: pgbench {tps:N0} TPS (synchronous_commit {commit})"));
        return new BenchPhase($"pgbench (TPC-B-like), synchronous_commit {commit}", Math.Round(tps), latency, 0, 0, 0, null, null, $"16 clients, scale 10, mean latency {latency:0.0} ms; server {string.Join(", ", PostgresSettings)}");
    }

    private static double Ms(LongHistogram histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 2);

    private static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = File.ReadLines("/proc/meminfo").FirstOrDefault(line => line.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var load = File.ReadAllText("/proc/loadavg").Split(' ').Take(3);
        return $"{Environment.ProcessorCount} CPUs ({model}), {memory} memory, load average {string.Join(' ', load)} at start, .NET {Environment.Version}";
    }

    /// <summary>What is wrong with the command line, or null.</summary>
    private static string? Problem(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var option = Options.FirstOrDefault(option => option.Name == args[i]);
            if (option.Name is null)
            {
                return $"unknown option '{args[i]}'";
            }

            if (option.Value.Length == 0)
            {
                continue;
            }

            if (++i >= args.Length)
            {
                return $"{option.Name} needs a value";
            }

            if (option.Name != "--out" && (!double.TryParse(args[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number <= 0))
            {
                return $"{option.Name}: '{args[i]}' is not a positive number";
            }
        }

        return null;
    }

    private static double Argument(string[] args, string name, double fallback) =>
        StringArgument(args, name) is { } value ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? StringArgument(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();

    [GeneratedRegex(@"latency average = ([0-9.]+) ms")]
    private static partial Regex Latency();
}
