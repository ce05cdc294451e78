namespace Handoff.Cli.Tests.Chaos;

/// <summary>Chaos on a PostgreSQL cluster of two hubs, one of which the seed loses for good in the middle of the run.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ChaosClusterTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_two_hub_cluster_that_loses_a_hub_for_good_carries_on_on_the_other_and_loses_nothing()
    {
        // Seed 48 restarts hub-1 early, then loses hub-2 11.7 s into a 30 s run: hub-1 alone serves the rest.
        string[] run = ["chaos", "--seed", "48", "--duration", "30", "--storage", "postgres", "--postgres", postgres.AdminConnectionString, "--json"];
        var plan = await CliRunner.RunAsync([.. run, "--dry-run"]);
        Assert.Contains("11.7 hub-2 lose 0", ChaosRunTests.Faults(plan.Json, "planned"));

        var result = await BoundedProcess.RunAsync(CliRunner.StartInfo(run), ChaosRunTests.RunBound, "handoff chaos --seed 48 on PostgreSQL");

        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json;
        Assert.Empty(report.GetProperty("violations").EnumerateArray());
        Assert.Equal(2, report.GetProperty("hubs").GetInt32());
        Assert.Equal(ChaosRunTests.Faults(plan.Json, "planned"), ChaosRunTests.Faults(report, "planned"));
        var lost = report.GetProperty("faults").EnumerateArray().Single(fault => fault.GetProperty("kind").GetString() == "lose").GetProperty("time").GetDouble();
        Assert.True(
            report.GetProperty("ends").EnumerateArray().Any(end => end.GetProperty("state").GetString() == "Completed" && end.GetProperty("at").GetDouble() > lost),
            $"no payment completed after hub-2 was lost at t+{lost} s:\n{result}");
    }
}
