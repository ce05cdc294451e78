using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Handoff.Cli.Tests.Chaos;

/// <summary>
/// <c>handoff chaos</c> as a person runs it: bad input refused naming the option, the seed's schedule printed the same
/// every time and done as printed, a short seeded run on SQLite that passes every invariant, and a run stopped with
/// SIGTERM in the middle of a freeze that leaves no process of its household behind, stopped or running.
/// </summary>
public sealed class ChaosRunTests
{
    /// <summary>A whole run: start, a short drive, the deadlines and the check, on a loaded two-core machine.</summary>
    internal static readonly TimeSpan RunBound = TimeSpan.FromMinutes(6);

    [Theory]
    [InlineData("seed", "--seed", "x")]
    [InlineData("seed", "--duration", "20")]
    [InlineData("hubs", "--seed", "1", "--hubs", "2")]
    [InlineData("payers", "--seed", "1", "--payers", "1")]
    [InlineData("duration", "--seed", "1", "--duration", "2")]
    [InlineData("storage", "--seed", "1", "--storage", "mysql")]
    public async Task Bad_input_is_refused_with_exit_2_naming_the_option(string field, params string[] args)
    {
        var refused = await CliRunner.RunAsync(["chaos", .. args, "--json"]);

        Assert.True(refused.ExitCode == 2, refused.ToString());
        var error = refused.Json.GetProperty("error");
        Assert.Equal("validation", error.GetProperty("code").GetString());
        Assert.Contains($"--{field}", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sweep_refuses_seeds_it_cannot_read_and_postgres_without_a_server()
    {
        var seeds = await CliRunner.RunAsync("chaos", "sweep", "--seeds", "1..x");
        Assert.True(seeds.ExitCode == 2, seeds.ToString());
        Assert.Contains("--seeds: '1..x' is not a list of seeds", seeds.Stderr, StringComparison.Ordinal);

        var postgres = await CliRunner.RunAsync("chaos", "sweep", "--seeds", "1..2", "--storage", "postgres");
        Assert.True(postgres.ExitCode == 2, postgres.ToString());
        Assert.Contains("--storage postgres needs --postgres CONNECTION", postgres.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_seeded_run_on_sqlite_passes_every_invariant_and_does_the_faults_its_dry_run_printed()
    {
        string[] run = ["chaos", "--seed", "3", "--duration", "20"];
        var plan = await CliRunner.RunAsync([.. run, "--dry-run", "--json"]);
        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Equal(plan.Stdout, (await CliRunner.RunAsync([.. run, "--dry-run", "--json"])).Stdout);
        var text = await CliRunner.RunAsync([.. run, "--dry-run"]);
        Assert.StartsWith($"schedule: {plan.Json.GetProperty("faults").GetArrayLength()} faults", text.Stdout, StringComparison.Ordinal);

        var result = await BoundedProcess.RunAsync(CliRunner.StartInfo([.. run, "--json"]), RunBound, "handoff chaos --seed 3");

        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json;
        Assert.Equal(3, report.GetProperty("seed").GetInt64());
        Assert.Empty(report.GetProperty("violations").EnumerateArray());
        Assert.True(report.GetProperty("payments").GetInt32() > 0, result.ToString());
        Assert.Equal(Faults(plan.Json, "planned"), Faults(report, "planned"));
        Assert.False(Directory.Exists(report.GetProperty("folder").GetString()), "a run that passed leaves no files");
    }

    [Fact]
    public async Task Stopped_by_sigterm_while_a_process_is_frozen_it_leaves_no_process_behind_and_none_stopped()
    {
        // Seed 9 freezes tv-1 3.2 s into the run, for 4.4 s: chaos is stopped the moment it says so.
        var start = CliRunner.StartInfo(["chaos", "--seed", "9", "--duration", "20"]);
        using var chaos = new Process { StartInfo = start };
        var output = new StringBuilder();
        var frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var begun = false;
        chaos.OutputDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
                begun |= line.Data?.Contains("faults and handoffs begin", StringComparison.Ordinal) == true;
                if (begun && line.Data?.Contains("freeze   tv-1", StringComparison.Ordinal) == true && frozen.TrySetResult())
                {
                    CliRunner.Signal(chaos.Id, 15);
                }
            }
        };
        chaos.ErrorDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }
        };
        chaos.Start();
        chaos.BeginOutputReadLine();
        chaos.BeginErrorReadLine();
        try
        {
            await frozen.Task.WaitAsync(TimeSpan.FromMinutes(3));
            await chaos.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            chaos.Kill(entireProcessTree: true);
            throw new TimeoutException($"chaos did not freeze tv-1 and stop within the bound:\n{output}");
        }

        var text = output.ToString();
        var folder = Between(text, "files in ", "\n").Trim();
        Assert.DoesNotContain("tv-1 thawed", text, StringComparison.Ordinal);
        Assert.True(chaos.ExitCode == 1, text);
        Assert.Contains("error: interrupted", text, StringComparison.Ordinal);
        Assert.Empty(Household(folder));
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>The faults of a report or a dry run: when (the schedule's time), which process, what, for how long.</summary>
    internal static List<string> Faults(JsonElement report, string time) =>
        [.. report.GetProperty("faults").EnumerateArray().Select(fault =>
            $"{fault.GetProperty(time).GetDouble()} {fault.GetProperty("process").GetString()} {fault.GetProperty("kind").GetString()} {fault.GetProperty("hold").GetDouble()}")];

    /// <summary>The processes whose command line names <paramref name="folder"/>, with their state (R, S, T for stopped…) from /proc.</summary>
    private static List<(int Pid, char State)> Household(string folder)
    {
        var found = new List<(int, char)>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(entry, "cmdline")).Contains(folder, StringComparison.Ordinal))
                {
                    var stat = File.ReadAllText(Path.Combine(entry, "stat"));
                    found.Add((pid, stat[(stat.LastIndexOf(')') + 2)..][0]));
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }

    private static string Between(string text, string from, string to)
    {
        var start = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no '{from}' in:\n{text}");
        start += from.Length;
        return text[start..text.IndexOf(to, start, StringComparison.Ordinal)];
    }
}
