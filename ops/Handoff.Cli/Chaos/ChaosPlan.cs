using System.Globalization;

namespace Handoff.Cli.Chaos;

/// <summary>Where a chaos household keeps its state.</summary>
internal enum ChaosStorage
{
    Sqlite,
    Postgres,
}

/// <summary>What the scheduler does to a process.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL, then started again after the hold.</summary>
    Kill,

    /// <summary>SIGSTOP, then SIGCONT after the hold.</summary>
    Freeze,

    /// <summary>SIGTERM (a clean stop), then started again after the hold.</summary>
    Restart,

    /// <summary>SIGKILL, never started again: a cluster's hub lost for good (PostgreSQL, two hubs or more).</summary>
    Lose,
}

/// <summary>The processes of a chaos household, by name: its hubs, one payer agent per payer device, and the TV.</summary>
internal sealed record ChaosTopology(ChaosStorage Storage, int Hubs, int Payers)
{
    public const string Initiator = "tv-1";

    public IReadOnlyList<string> HubNames { get; } = Hubs == 1 ? ["hub"] : [.. Enumerable.Range(1, Hubs).Select(hub => $"hub-{hub}")];

    /// <summary>The payer devices, each carried by its own payer agent of the same name.</summary>
    public IReadOnlyList<string> PayerDevices { get; } = [.. Enumerable.Range(1, Payers).Select(payer => $"phone-{payer}")];

    public IReadOnlyList<string> Processes => [.. HubNames, .. PayerDevices, Initiator];

    public bool IsHub(string process) => HubNames.Contains(process);
}

/// <summary>One fault of the schedule: at <paramref name="At"/> after the household is up, do <paramref name="Kind"/> to <paramref name="Process"/> for <paramref name="Hold"/>.</summary>
internal sealed record PlannedFault(TimeSpan At, string Process, FaultKind Kind, TimeSpan Hold)
{
    public string Describe() => Kind switch
    {
        FaultKind.Kill => $"kill -9, down {Seconds(Hold)}",
        FaultKind.Freeze => $"SIGSTOP, frozen {Seconds(Hold)}",
        FaultKind.Restart => $"SIGTERM, down {Seconds(Hold)}",
        _ => "kill -9, never started again",
    };

    public static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
}

/// <summary>
/// The fault schedule of a seed: a function of the seed, the duration and the household's shape alone, so the same
/// command line gives the same faults at the same moments, and a failing run can be replayed.
/// </summary>
internal static class ChaosPlan
{
    /// <summary>The longest any one fault keeps a process out before it is healed (restarting it takes longer still).</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(6);

    /// <summary>At most this many processes are out at once (a lost hub not counted), and never all of them.</summary>
    public const int MaxConcurrent = 2;

    private const ulong ScheduleStream = 1;
    private static readonly TimeSpan FirstFault = TimeSpan.FromSeconds(2);

    // How long a killed or stopped process is counted as out after its hold: the time a .NET process takes to start
    // and rejoin on a busy two-core machine. Planning with it keeps the bound on concurrent faults true in practice.
    private static readonly TimeSpan Comeback = TimeSpan.FromSeconds(8);

    public static IReadOnlyList<PlannedFault> For(long seed, TimeSpan duration, ChaosTopology topology)
    {
        var random = ChaosRandom.For(seed, ScheduleStream);
        var processes = topology.Processes;
        var outUntil = processes.ToDictionary(process => process, _ => TimeSpan.Zero, StringComparer.Ordinal);
        string? lost = null;
        TimeSpan? loseAt = null;
        if (topology.Hubs >= 2 && random.Chance(0.5))
        {
            lost = random.Pick(topology.HubNames);
            loseAt = random.Between(duration / 3, duration * 2 / 3);
        }

        var faults = new List<PlannedFault>();
        var at = FirstFault + random.Between(TimeSpan.Zero, TimeSpan.FromSeconds(2));
        while (at < duration)
        {
            if (loseAt is { } when && when <= at)
            {
                // The hub is lost once any fault it is in has healed.
                var from = outUntil[lost!] > when ? outUntil[lost!] : when;
                faults.Add(new PlannedFault(from, lost!, FaultKind.Lose, TimeSpan.Zero));
                outUntil[lost!] = TimeSpan.MaxValue;
                loseAt = null;
                continue;
            }

            var standing = processes.Where(process => outUntil[process] != TimeSpan.MaxValue).ToList();
            var free = standing.Where(process => outUntil[process] <= at).ToList();
            if (standing.Count - free.Count >= Math.Min(MaxConcurrent, standing.Count - 1) || free.Count == 0)
            {
                at += TimeSpan.FromMilliseconds(500);
                continue;
            }

            var kind = random.Pick<FaultKind>([(FaultKind.Kill, 0.4), (FaultKind.Freeze, 0.3), (FaultKind.Restart, 0.3)]);
            var hold = kind switch
            {
                FaultKind.Kill => random.Between(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5)),
                FaultKind.Freeze => random.Between(TimeSpan.FromSeconds(1), MaxHold),
                _ => random.Between(TimeSpan.Zero, TimeSpan.FromSeconds(3)),
            };
            var process = random.Pick(free);
            faults.Add(new PlannedFault(at, process, kind, hold));
            outUntil[process] = at + hold + (kind == FaultKind.Freeze ? TimeSpan.Zero : Comeback);
            at += random.Between(TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(5));
        }

        return [.. faults.OrderBy(fault => fault.At)];
    }
}
