using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Handoff.Cli.Chaos;
using Handoff.Contracts;

namespace Handoff.Cli.Commands;

/// <summary>
/// <c>handoff chaos</c>: a household of real processes under seeded random faults, every payment invariant checked at
/// the end; <c>handoff chaos sweep</c>: many seeds, one line each, and the totals.
/// </summary>
internal static class ChaosCommand
{
    private const int MostHubs = 4;
    private const int MostPayers = 6;

    public static Command Create()
    {
        var seed = new Option<long?>("--seed")
        {
            Description = "The seed: the same seed gives the same fault schedule and the same handoffs (required)",
            HelpName = "N",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }

                result.AddError($"--seed: '{text}' is not a whole number such as 7");
                return null;
            },
        };
        var shape = new Shape();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the fault schedule of the seed and exit, starting nothing" };
        var keep = new Option<bool>("--keep") { Description = "Keep the run's folder (store, keys, logs) and database even when it passes; a failed run's are always kept" };
        var command = new Command("chaos", "Run a household as processes under random faults from a seed (kill -9, SIGSTOP, restart) and check every payment invariant.")
        {
            seed, shape.Duration, shape.Storage, shape.Hubs, shape.Payers, dryRun, keep,
        };
        shape.Validate(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(seed) is null && result.Children.All(child => child is not CommandResult))
            {
                result.AddError("--seed: a seed is required, e.g. --seed 7");
            }
        });
        command.Subcommands.Add(Sweep());
        command.SetAction((parsed, cancellation) =>
        {
            var output = new Output(parsed.GetValue(CliOptions.Json));
            return output.RunAsync(async () =>
            {
                var settings = shape.Settings(parsed, parsed.GetValue(seed)!.Value) with { Keep = parsed.GetValue(keep) };
                if (parsed.GetValue(dryRun))
                {
                    return output.Result(
                        new { seed = settings.Seed, faults = settings.Plan.Select(fault => FaultView.Of(fault.At, fault)).ToList() },
                        _ => ChaosRun.Schedule(settings.Plan));
                }

                using var shutdown = new ShutdownSignal(cancellation);
                var live = output.Json ? Console.Error : Console.Out;
                var report = await ChaosRun.RunAsync(settings, TimeProvider.System, line => live.WriteLine(line), shutdown.Token);
                output.Result(report, Render);
                return report.Passed ? Output.Success : Output.Failure;
            });
        });
        return command;
    }

    private static Command Sweep()
    {
        var seeds = new Option<IReadOnlyList<long>>("--seeds")
        {
            Description = "The seeds to run, e.g. 1..50, or 3,7,9, or 1..10,20",
            HelpName = "FIRST..LAST",
            Required = true,
            CustomParser = ParseSeeds,
        };
        var shape = new Shape();
        var report = new Option<string?>("--report") { Description = "Also write the sweep's JSON (every run, the totals) to this file", HelpName = "FILE" };
        var command = new Command("sweep", "Run chaos for many seeds, one after another, a line per seed, then the totals.")
        {
            seeds, shape.Duration, shape.Storage, shape.Hubs, shape.Payers, report,
        };
        shape.Validate(command);
        command.SetAction((parsed, cancellation) =>
        {
            var output = new Output(parsed.GetValue(CliOptions.Json));
            return output.RunAsync(async () =>
            {
                var settings = shape.Settings(parsed, seed: 0);
                using var shutdown = new ShutdownSignal(cancellation);
                var live = output.Json ? Console.Error : Console.Out;
                var sweep = await ChaosSweep.RunAsync(parsed.GetValue(seeds)!, settings, TimeProvider.System, line => live.WriteLine(line), shutdown.Token);
                if (parsed.GetValue(report) is { } file)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
                    await File.WriteAllTextAsync(file, HandoffCommands.Json(sweep), CancellationToken.None);
                }

                output.Result(sweep, ChaosSweep.Render);
                return sweep.Violations.Count == 0 && sweep.Passed == sweep.Runs ? Output.Success : Output.Failure;
            });
        });
        return command;
    }

    private static string Render(ChaosReport report)
    {
        var text = new StringBuilder();
        foreach (var violation in report.Violations)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"VIOLATION: {violation}");
        }

        var outcomes = string.Join(", ", report.Outcomes.Select(pair => $"{pair.Value} {pair.Key}"));
        text.Append(CultureInfo.InvariantCulture, $"verdict: {(report.Passed ? "passed" : $"FAILED, {report.Violations.Count} violation(s)")}: ");
        text.Append(CultureInfo.InvariantCulture, $"{report.Payments} payments ({outcomes}), {report.Refunds} refunds, {ChaosSweep.FaultCounts(report.Faults)}, in {report.Seconds:0} s");
        if (!report.Passed)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}the run's store, keys and logs are kept in {report.Folder}; replay it with the same command line");
        }

        return text.ToString();
    }

    private static IReadOnlyList<long> ParseSeeds(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        var seeds = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var range = part.Split("..");
            if (range.Length is 1 or 2
                && long.TryParse(range[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var first)
                && long.TryParse(range[^1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var last)
                && first <= last && last - first < 100_000)
            {
                for (var next = first; next <= last; next++)
                {
                    seeds.Add(next);
                }

                continue;
            }

            result.AddError($"--seeds: '{text}' is not a list of seeds such as 1..50, 3,7,9 or 1..10,20");
            return [];
        }

        return seeds;
    }

    /// <summary>The options a run and a sweep share: how long, on what storage, how many hubs and payers.</summary>
    private sealed class Shape
    {
        public Option<TimeSpan?> Duration { get; } = CliValues.Duration("--duration", "How long to drive handoffs under faults, e.g. 45 (seconds) or 2m, then every deadline and the grace are waited out (default 45s)");

        public Option<ChaosStorage> Storage { get; } = CliValues.OneOf("--storage", "The household's store", ChaosStorage.Sqlite, ChaosStorage.Sqlite, ChaosStorage.Postgres);

        public Option<int?> Hubs { get; } = new("--hubs") { Description = $"Hubs: 1 with sqlite; with postgres 2 to {MostHubs}, one cluster [default: 1, postgres 2]", HelpName = "N" };

        public Option<int> Payers { get; } = new("--payers") { Description = $"Payer agents, one payer device each, 2 to {MostPayers}", HelpName = "N", DefaultValueFactory = _ => 2 };

        public void Validate(Command command) => command.Validators.Add(result =>
        {
            // A value that did not parse has its own error already; these rules judge only the ones that did.
            var postgres = Parsed(result, Storage) == ChaosStorage.Postgres;
            if (Parsed(result, Duration) is { } duration && (duration < TimeSpan.FromSeconds(5) || duration > TimeSpan.FromHours(1)))
            {
                result.AddError("--duration: must be between 5s and 1h");
            }

            switch (Parsed(result, Hubs))
            {
                case { } hubs when !postgres && hubs != 1:
                    result.AddError("--hubs: a SQLite household has one hub; several share a store only with --storage postgres");
                    break;
                case { } hubs when postgres && hubs is < 2 or > MostHubs:
                    result.AddError($"--hubs: a PostgreSQL chaos cluster has 2 to {MostHubs} hubs");
                    break;
            }

            if (result.GetResult(Payers) is not null && Parsed(result, Payers) is < 2 or > MostPayers)
            {
                result.AddError($"--payers: must be 2 to {MostPayers}");
            }

            if (postgres && result.GetValue(CliOptions.Postgres) is not { Length: > 0 })
            {
                result.AddError("--storage postgres needs --postgres CONNECTION (or HANDOFF_POSTGRES): a server on which each run makes its own database");
            }
        });

        private static T? Parsed<T>(CommandResult result, Option<T> option)
        {
            try
            {
                return result.GetValue(option);
            }
            catch (InvalidOperationException)
            {
                return default;
            }
        }

        public ChaosSettings Settings(ParseResult parsed, long seed)
        {
            var storage = parsed.GetValue(Storage);
            var hubs = parsed.GetValue(Hubs) ?? (storage == ChaosStorage.Postgres ? 2 : 1);
            return new ChaosSettings(
                seed,
                parsed.GetValue(Duration) ?? TimeSpan.FromSeconds(45),
                new ChaosTopology(storage, hubs, parsed.GetValue(Payers)),
                storage == ChaosStorage.Postgres ? parsed.GetValue(CliOptions.Postgres) : null);
        }
    }
}
