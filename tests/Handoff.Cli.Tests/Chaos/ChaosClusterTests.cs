namespace Handoff.Cli.Tests.Chaos;

/// <summary>
/// Chaos on a PostgreSQL cluster of two hubs, one of which the seed loses for good in the middle of the run: nothing is
/// lost, and the other hub carries on (the handoff made after healing, with the lost hub still gone, completes).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ChaosClusterTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_two_hub_cluster_that_loses_a_hub_for_good_carries_on_on_the_other_and_loses_nothing()
    {
        // Seed 2 loses hub-1 (the first started) 11.3 s into a 25 s run, and kills hub-2 for a moment afterwards.
        string[] run = ["chaos", "--seed", "2", "--duration", "25", "--storage", "postgres", "--postgres", postgres.AdminConnectionString, "--json"];
        var plan = await CliRunner.RunAsync([.. run, "--dry-run"]);
        Assert.Contains("11.3 hub-1 lose 0", ChaosRunTests.Faults(plan.Json, "planned"));

        var result = await BoundedProcess.RunAsync(CliRunner.StartInfo(run), ChaosRunTests.RunBound, "handoff chaos --seed 2 on PostgreSQL");

        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json;
        Assert.Empty(report.GetProperty("violations").EnumerateArray());
        Assert.Equal(2, report.GetProperty("hubs").GetInt32());
        Assert.Equal(ChaosRunTests.Faults(plan.Json, "planned"), ChaosRunTests.Faults(report, "planned"));
        var lost = report.GetProperty("faults").EnumerateArray().Single(fault => fault.GetProperty("kind").GetString() == "lose").GetProperty("time").GetDouble();
        // Once healed, with hub-1 gone for good, one more handoff completes: hub-2 alone carries the household.
        var healed = report.GetProperty("ends").EnumerateArray().Single(end => end.GetProperty("handoff").GetString() == "afterHealing");
        Assert.Equal("Completed", healed.GetProperty("state").GetString());
        Assert.True(healed.GetProperty("at").GetDouble() > lost, result.ToString());
    }
}
