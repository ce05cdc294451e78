using System.Collections.Concurrent;

namespace Handoff.Cli.Chaos;

/// <summary>A fault as it was done (or skipped: its process was still not back from the last one): when, and what the schedule said.</summary>
internal sealed record InjectedFault(TimeSpan At, PlannedFault Planned, bool Skipped = false);

/// <summary>
/// Carries out a fault schedule on a running household, and heals it: a killed or stopped process is started again
/// after its hold, a frozen one thawed, and one that exits by itself (a silo its cluster declared dead, say) is noted and
/// started again. Only a lost hub stays down.
/// </summary>
internal sealed class ChaosFaults(ChaosHousehold household, TimeProvider time, long started, Action<string> progress)
{
    private static readonly TimeSpan Supervise = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan FaultWaitsFor = TimeSpan.FromSeconds(60);
    private const int StartAttempts = 3;

    // Processes the scheduler holds out (killed, stopped, frozen, or coming back), and hubs lost for good.
    private readonly ConcurrentDictionary<string, bool> _out = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<InjectedFault> _injected = new();

    public IReadOnlyList<InjectedFault> Injected => [.. _injected.OrderBy(fault => fault.At)];

    /// <summary>What happened to the processes besides the faults (restarts, exits of their own).</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>Processes that could not be healed: the run's own failures, reported with the violations.</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    public TimeSpan Now => time.GetElapsedTime(started);

    /// <summary>Does every fault of <paramref name="plan"/> at its moment; returns once each has healed (or was lost).</summary>
    public async Task RunAsync(IReadOnlyList<PlannedFault> plan, CancellationToken cancellation)
    {
        var running = new List<Task>();
        foreach (var fault in plan)
        {
            if (fault.At > Now)
            {
                await Task.Delay(fault.At - Now, time, cancellation);
            }

            running.Add(InjectAsync(fault, cancellation));
        }

        await Task.WhenAll(running);
    }

    /// <summary>Until <paramref name="cancellation"/>: starts again any process that exited without the scheduler's doing.</summary>
    public async Task SuperviseAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(Supervise, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellation))
            {
                foreach (var process in household.Processes.Where(process => process.Down && _out.TryAdd(process.Name, true)))
                {
                    Note($"{process.Name} exited by itself; starting it again");
                    _ = BringBackAsync(process, cancellation).ContinueWith(_ => _out.TryRemove(process.Name, out var _), TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Waits (bounded) until every process but the lost hubs runs, not frozen, and has said it is ready.</summary>
    public Task HealedAsync(TimeSpan within) => Handoff.Processes.BoundedWait.UntilAsync(
        () => Task.FromResult(household.Processes.All(process => Lost(process.Name) || (!_out.ContainsKey(process.Name) && process.Running))),
        "every process to be up again",
        within,
        () => string.Join(", ", household.Processes.Where(process => !process.Running).Select(process => process.Name)));

    public bool Lost(string process) => _out.TryGetValue(process, out var lost) && !lost;

    private async Task InjectAsync(PlannedFault fault, CancellationToken cancellation)
    {
        var process = household.Process(fault.Process);

        // The schedule may come back to a process still rejoining from its last fault: this one waits for it.
        var waited = time.GetTimestamp();
        while (!(process.Running && _out.TryAdd(fault.Process, fault.Kind != FaultKind.Lose)))
        {
            if (time.GetElapsedTime(waited) > FaultWaitsFor)
            {
                Note($"{fault.Process} was not up again within {FaultWaitsFor.TotalSeconds:0} s: its {fault.Kind.ToString().ToLowerInvariant()} is skipped");
                _injected.Enqueue(new InjectedFault(Now, fault, Skipped: true));
                return;
            }

            await Task.Delay(Supervise, time, cancellation);
        }

        var at = Now;
        _injected.Enqueue(new InjectedFault(at, fault));
        if (fault.Kind == FaultKind.Freeze)
        {
            // Said once done: whoever reads the line finds the process stopped.
            process.Freeze();
        }

        progress($"  t+{PlannedFault.Seconds(at),6}  {fault.Kind.ToString().ToLowerInvariant(),-7}  {fault.Process,-8} {fault.Describe()}");
        switch (fault.Kind)
        {
            case FaultKind.Freeze:
                await Task.Delay(fault.Hold, time, cancellation);
                process.Thaw();
                Note($"{fault.Process} thawed");
                _out.TryRemove(fault.Process, out _);
                return;
            case FaultKind.Lose:
                await process.KillAsync();
                return;
            case FaultKind.Kill:
                await process.KillAsync();
                break;
            default:
                await process.StopAsync();
                break;
        }

        await Task.Delay(fault.Hold, time, cancellation);
        await BringBackAsync(process, cancellation);
        _out.TryRemove(fault.Process, out _);
    }

    private async Task BringBackAsync(ChaosProcess process, CancellationToken cancellation)
    {
        var from = Now;
        for (var attempt = 1; attempt <= StartAttempts; attempt++)
        {
            try
            {
                await process.StartAsync([], cancellation);
                Note($"{process.Name} is back ({PlannedFault.Seconds(Now - from)} to start and rejoin)");
                return;
            }
            catch (ChaosException failed)
            {
                Note($"{process.Name} did not come back (attempt {attempt} of {StartAttempts}): {failed.Message}");
                await process.KillAsync();
                await Task.Delay(TimeSpan.FromSeconds(2), time, cancellation);
            }
        }

        Problems.Enqueue($"{process.Name} could not be started again ({StartAttempts} attempts; see its log)");
    }

    private void Note(string what)
    {
        Events.Enqueue($"t+{PlannedFault.Seconds(Now)} {what}");
        progress($"  t+{PlannedFault.Seconds(Now),6}  {what}");
    }
}
