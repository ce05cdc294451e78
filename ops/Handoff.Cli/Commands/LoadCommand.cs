using System.CommandLine;
using System.Globalization;
using System.Net;
using Handoff.Cli.Load;
using Handoff.Contracts;
using Handoff.Silo.Hosting;

namespace Handoff.Cli.Commands;

/// <summary><c>handoff load</c>: simulated households driven hard, with a latency and ledger report.</summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var households = new Option<int>("--households") { Description = "Simulated households (each: one initiator, its payers, its ledger)", DefaultValueFactory = _ => 50 };
        var payers = new Option<int>("--payers") { Description = "Simulated payer devices per household (all on one payer-agent silo)", DefaultValueFactory = _ => 4 };
        var concurrency = new Option<int>("--concurrency") { Description = "Handoffs in flight at once (the cap, with --rate)", DefaultValueFactory = _ => 256 };
        var rate = new Option<double?>("--rate") { Description = "Start this many handoffs per second (open loop) instead of keeping --concurrency in flight" };
        var duration = CliValues.Duration("--duration", "How long to start handoffs for, e.g. 20s or 2m (default 10s, unless --count)");
        var warmup = CliValues.Duration("--warmup", "Handoffs first, left out of throughput and latency (JIT, pools, activations)", "5s");
        var count = new Option<long?>("--count") { Description = "Handoffs to run (soak: default 1000000)" };
        var pinShare = new Option<double>("--pin-share") { Description = "Share of approvals by PIN, 0..1 (PBKDF2 on the device); the rest are biometric (WebAuthn)", DefaultValueFactory = _ => 0 };
        var storage = new Option<string?>("--storage") { Description = "memory (default), sqlite, or postgres (default when --postgres is given)" };
        var data = new Option<string?>("--data") { Description = "SQLite data folder (default: a temporary folder, removed afterwards); with --gateway, the hub's data folder holding its admin token" };
        var hubSilo = new Option<string?>("--hub-silo") { Description = "With --gateway: the hub's silo endpoint host:port the simulated payers join [default: the gateway's host, port 11111]" };
        var soak = new Option<bool>("--soak") { Description = "Soak: long run, memory (GC heap, working set) and activations sampled; reports whether memory stays flat" };
        var collectionAge = CliValues.Duration("--collection-age", "Idle time before Orleans collects an activation (default 30s; soak 20s)");
        var directoryCache = new Option<int?>("--directory-cache") { Description = "Entries of Orleans' grain directory cache on the load silos (default: the household's 100,000)" };
        var reminderRefresh = CliValues.Duration("--reminder-refresh", "Time between the silos' re-reads of the reminder table (default: the household's 1m)");
        var traceRatio = new Option<double?>("--trace-ratio") { Description = "Share of payments traced (Handoff:Tracing:SampleRatio), 0..1; default: the hub's (1)" };
        var report = new Option<string?>("--report") { Description = "Also write the JSON report to this file" };
        var plots = new Option<string?>("--plots") { Description = "Write PNG plots (latency, throughput, soak memory) into this folder" };
        var command = new Command("load", "Load test: simulated households, many concurrent handoffs, latency percentiles and a ledger check.")
        {
            households, payers, concurrency, rate, duration, warmup, count, pinShare, storage, data, hubSilo, soak, collectionAge, directoryCache, reminderRefresh, traceRatio, report, plots,
        };
        command.SetAction((parsed, cancellation) =>
        {
            var output = new Output(parsed.GetValue(CliOptions.Json));
            return output.RunAsync(async () =>
            {
                var postgres = parsed.GetValue(CliOptions.Postgres);
                var isSoak = parsed.GetValue(soak);
                var settings = new LoadSettings
                {
                    Households = Positive(parsed.GetValue(households), "households"),
                    PayersPerHousehold = Positive(parsed.GetValue(payers), "payers"),
                    Concurrency = Positive(parsed.GetValue(concurrency), "concurrency"),
                    Rate = parsed.GetValue(rate) is { } perSecond && perSecond <= 0 ? throw new ValidationException("rate", "--rate must be positive") : parsed.GetValue(rate),
                    Duration = parsed.GetValue(duration),
                    Warmup = parsed.GetValue(warmup) ?? TimeSpan.Zero,
                    Count = parsed.GetValue(count) ?? (isSoak && parsed.GetValue(duration) is null ? 1_000_000 : null),
                    PinShare = parsed.GetValue(pinShare) is var share and >= 0 and <= 1 ? share : throw new ValidationException("pin-share", "--pin-share must be between 0 and 1"),
                    Target = TargetFrom(parsed, storage, data, hubSilo),
                    Storage = (parsed.GetValue(storage) ?? (string.IsNullOrEmpty(postgres) ? "memory" : "postgres")) switch
                    {
                        "memory" => HubStorageKind.Memory,
                        "sqlite" => HubStorageKind.Sqlite,
                        "postgres" => HubStorageKind.Postgres,
                        var other => throw new ValidationException("storage", $"'{other}' is not one of memory, sqlite, postgres"),
                    },
                    Postgres = postgres,
                    DataDirectory = parsed.GetValue(data),
                    Soak = isSoak,
                    DirectoryCacheSize = parsed.GetValue(directoryCache),
                    ReminderRefresh = parsed.GetValue(reminderRefresh),
                    CollectionAge = parsed.GetValue(collectionAge) ?? TimeSpan.FromSeconds(isSoak ? 20 : 30),
                };
                if (parsed.GetValue(traceRatio) is { } ratio)
                {
                    settings = settings with
                    {
                        SampleRatio = ratio is >= 0 and <= 1 ? ratio : throw new ValidationException("trace-ratio", "--trace-ratio must be between 0 and 1"),
                    };
                }

                using var shutdown = new ShutdownSignal(cancellation);
                var live = output.Json ? Console.Error : Console.Out;
                var (result, outcome) = await LoadSession.RunAsync(settings, line => live.WriteLine(line), shutdown.Token);
                if (parsed.GetValue(report) is { } file)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
                    await File.WriteAllTextAsync(file, result.ToJson(), CancellationToken.None);
                }

                if (parsed.GetValue(plots) is { } folder)
                {
                    var prefix = result.Storage + (settings.Soak ? "-soak-" : "-");
                    foreach (var png in LoadPlots.Write(folder, prefix, result, outcome.Latency))
                    {
                        live.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load: wrote {png}"));
                    }
                }

                Console.Out.Write(output.Json ? result.ToJson() + Environment.NewLine : result.ToText());
                return result.Ledger.Clean ? Output.Success : Output.Failure;
            });
        });
        return command;
    }

    /// <summary>
    /// <c>--gateway</c> given on the command line (not only by HANDOFF_GATEWAY, which other commands use for every
    /// call): the running household to drive. Null: the run builds its own household in this process.
    /// </summary>
    private static LoadTarget? TargetFrom(ParseResult parsed, Option<string?> storage, Option<string?> data, Option<string?> hubSilo)
    {
        if (parsed.GetResult(CliOptions.Gateway) is not { Implicit: false })
        {
            return parsed.GetValue(hubSilo) is null ? null : throw new ValidationException("hub-silo", "--hub-silo goes with --gateway: the household to drive");
        }

        if (parsed.GetValue(storage) is not null)
        {
            throw new ValidationException("storage", "--storage does not go with --gateway: the running household's hub keeps its own storage");
        }

        var gateway = Endpoint(parsed.GetValue(CliOptions.Gateway)!, "gateway");
        var silo = parsed.GetValue(hubSilo) is { } given ? Endpoint(given, "hub-silo") : new IPEndPoint(gateway.Address, ServeCommands.HubSiloPort);
        var token = Environment.GetEnvironmentVariable("HANDOFF_ADMIN_TOKEN") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Silo.Hosting.AdminTokenFile.Read(parsed.GetValue(data) ?? Sdk.DataFolder.Resolve());
        return new LoadTarget(
            gateway,
            silo,
            DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household"),
            token,
            parsed.GetValue(CliOptions.Postgres) is { Length: > 0 } database ? database : null,
            CliOptions.CertificateFrom(parsed),
            LoadTarget.LocalAddressToward(gateway.Address));
    }

    private static IPEndPoint Endpoint(string value, string option)
    {
        try
        {
            return Sdk.HandoffClientOptions.ParseEndpoint(value);
        }
        catch (Exception problem) when (problem is FormatException or System.Net.Sockets.SocketException)
        {
            throw new ValidationException(option, $"--{option}: {problem.Message}");
        }
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ValidationException(name, $"--{name} must be positive");
}
