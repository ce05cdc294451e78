using Handoff.Cli.Chaos;

namespace Handoff.Cli.Tests.Chaos;

/// <summary>The fault schedule and the handoffs of a chaos run come from its seed alone, within the schedule's bounds.</summary>
public sealed class ChaosScheduleTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(45);
    private static readonly ChaosTopology Sqlite = new(ChaosStorage.Sqlite, Hubs: 1, Payers: 2);
    private static readonly ChaosTopology Cluster = new(ChaosStorage.Postgres, Hubs: 2, Payers: 3);
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Programs =
        new Dictionary<string, IReadOnlyList<string>> { ["phone-1"] = ["wallet-1", "card-1"], ["phone-2"] = [], ["phone-3"] = ["wallet-3", "card-3"] };

    [Fact]
    public void The_same_seed_gives_the_same_faults_and_handoffs_and_another_seed_others()
    {
        Assert.Equal(ChaosPlan.For(7, Duration, Sqlite), ChaosPlan.For(7, Duration, Sqlite));
        Assert.NotEqual(ChaosPlan.For(7, Duration, Sqlite), ChaosPlan.For(8, Duration, Sqlite));
        for (var index = 0; index < 50; index++)
        {
            var once = HandoffPlan.For(7, index, Cluster, Programs);
            var again = HandoffPlan.For(7, index, Cluster, Programs);
            Assert.Equal(Describe(once), Describe(again));
        }

        Assert.NotEqual(
            Enumerable.Range(0, 20).Select(index => Describe(HandoffPlan.For(7, index, Sqlite, Programs))),
            Enumerable.Range(0, 20).Select(index => Describe(HandoffPlan.For(8, index, Sqlite, Programs))));
    }

    [Fact]
    public void The_schedule_of_seed_7_is_the_one_it_always_was()
    {
        // A change of the generator changes every recorded seed's run: the seeds in docs/RELIABILITY.md would no longer replay.
        Assert.Equal(
            [
                "2.5 hub Kill 3.5", "4.9 phone-1 Kill 0.6", "13.6 phone-2 Restart 2.6", "17.1 phone-1 Freeze 5.5", "22.9 hub Kill 3.1",
                "25.3 tv-1 Kill 2.9", "34.3 phone-2 Restart 0.4", "37.4 hub Freeze 5", "42.7 hub Kill 3.8",
            ],
            ChaosPlan.For(7, Duration, Sqlite).Select(fault => $"{Math.Round(fault.At.TotalSeconds, 1)} {fault.Process} {fault.Kind} {Math.Round(fault.Hold.TotalSeconds, 1)}"));
    }

    [Fact]
    public void Faults_stay_within_the_run_and_their_bounds_and_only_a_clusters_hub_is_lost()
    {
        for (var seed = 1; seed <= 300; seed++)
        {
            foreach (var topology in new[] { Sqlite, Cluster })
            {
                var plan = ChaosPlan.For(seed, Duration, topology);
                Assert.NotEmpty(plan);
                Assert.All(plan, fault => Assert.InRange(fault.Hold, TimeSpan.Zero, ChaosPlan.MaxHold));
                Assert.All(plan.Where(fault => fault.Kind != FaultKind.Lose), fault => Assert.InRange(fault.At, TimeSpan.FromSeconds(2), Duration));
                var lost = plan.Where(fault => fault.Kind == FaultKind.Lose).ToList();
                Assert.True(lost.Count <= topology.Hubs - 1, $"seed {seed} loses {lost.Count} of {topology.Hubs} hubs");
                Assert.All(lost, fault => Assert.True(topology.IsHub(fault.Process), $"seed {seed} loses {fault.Process}, not a hub"));
                Assert.All(lost, loss => Assert.DoesNotContain(plan, fault => fault.Process == loss.Process && fault.At > loss.At));
            }
        }
    }

    [Fact]
    public void Every_kind_of_fault_and_of_handoff_is_drawn()
    {
        var faults = Enumerable.Range(1, 20).SelectMany(seed => ChaosPlan.For(seed, Duration, Cluster)).Select(fault => fault.Kind).ToHashSet();
        Assert.Equal(Enum.GetValues<FaultKind>().ToHashSet(), faults);
        var handoffs = Enumerable.Range(0, 200).Select(index => HandoffPlan.For(3, index, Sqlite, Programs)).ToList();
        Assert.Equal(Enum.GetValues<HandoffKind>().ToHashSet(), handoffs.Select(plan => plan.Kind).ToHashSet());
        Assert.Equal(Enum.GetValues<RefundKind>().ToHashSet(), handoffs.SelectMany(plan => plan.Refunds).Select(refund => refund.Kind).ToHashSet());
        Assert.Contains(handoffs, plan => plan.AskedFor == Contracts.PayerChoice.Any);
        Assert.Contains(handoffs, plan => plan.AskedFor.Contains(',', StringComparison.Ordinal));
    }

    private static string Describe(HandoffPlan plan) =>
        $"{plan.Kind} {plan.Info} {plan.AskedFor} {string.Join(',', plan.Actors)} {plan.Program} {plan.ExpiresIn} {plan.Think} {plan.WrongPins} {string.Join(',', plan.Refunds)}";
}
