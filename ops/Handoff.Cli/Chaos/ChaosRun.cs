using System.Globalization;
using System.Text.Json;
using Handoff.Cli.Ledger;
using Handoff.Contracts;

namespace Handoff.Cli.Chaos;

/// <summary>What a chaos run is asked to do.</summary>
/// <param name="Postgres">With <see cref="ChaosStorage.Postgres"/>: the server on which the run makes its own database.</param>
/// <param name="Keep">Keep the run's folder (and database) even when it passes.</param>
internal sealed record ChaosSettings(long Seed, TimeSpan Duration, ChaosTopology Topology, string? Postgres, bool Keep = false)
{
    /// <summary>How long after its deadline a payment may take to end: recovery after the faults, a lost hub's reminders moving over.</summary>
    public TimeSpan Grace => Topology.Storage == ChaosStorage.Postgres ? TimeSpan.FromSeconds(90) : TimeSpan.FromSeconds(60);

    public IReadOnlyList<PlannedFault> Plan => ChaosPlan.For(Seed, Duration, Topology);
}

/// <summary>
/// A fault as the report gives it: seconds after the household was up (and when the schedule said), the process, what
/// was done, and whether it was skipped (its process was still not back from the last fault).
/// </summary>
internal sealed record FaultView(double Time, double Planned, string Process, string Kind, double Hold, bool Skipped = false)
{
    public static FaultView Of(TimeSpan at, PlannedFault fault, bool skipped = false) => new(
        Math.Round(at.TotalSeconds, 1), Math.Round(fault.At.TotalSeconds, 1), fault.Process, fault.Kind.ToString().ToLowerInvariant(), Math.Round(fault.Hold.TotalSeconds, 1), skipped);
}

/// <summary>How a stored payment ended: what the run did with it, its end state, and when (seconds after the household was up).</summary>
internal sealed record PaymentEnd(string PaymentId, string Handoff, string State, double At);

/// <summary>
/// What <c>handoff chaos --json</c> prints: the run, its payments (those the household accepted; <see cref="Refused"/>:
/// requests refused, by code; <see cref="Unanswered"/>: requests never answered; <see cref="Outcomes"/>: every stored
/// payment by its end state; <see cref="Handoffs"/>: the accepted ones by what was done with them), its faults, and every
/// violation found (none: it passed).
/// </summary>
internal sealed record ChaosReport(
    long Seed,
    string Storage,
    int Hubs,
    int Payers,
    double Duration,
    int Payments,
    IReadOnlyDictionary<string, int> Refused,
    int Unanswered,
    IReadOnlyDictionary<string, int> Outcomes,
    IReadOnlyDictionary<string, int> Handoffs,
    int Refunds,
    IReadOnlyList<FaultView> Faults,
    IReadOnlyList<string> Violations,
    IReadOnlyList<PaymentEnd> Ends,
    IReadOnlyList<string> Events,
    string Folder,
    double Seconds)
{
    public bool Passed => Violations.Count == 0;
}

/// <summary>
/// One chaos run: start the household, drive handoffs while the schedule's faults happen, heal, wait for every
/// deadline and the grace, then judge the store and what was seen.
/// </summary>
internal static class ChaosRun
{
    private static readonly TimeSpan HealWithin = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan WatchersWithin = TimeSpan.FromSeconds(30);

    public static async Task<ChaosReport> RunAsync(ChaosSettings settings, TimeProvider time, Action<string> progress, CancellationToken cancellation)
    {
        var begun = time.GetTimestamp();
        var topology = settings.Topology;
        var plan = settings.Plan;
        var folder = Directory.CreateTempSubdirectory($"handoff-chaos-{settings.Seed}-").FullName;
        progress($"chaos seed {settings.Seed}: {topology.Storage.ToString().ToLowerInvariant()}, {Count(topology.Hubs, "hub")}, {Count(topology.Payers, "payer")} and {ChaosTopology.Initiator}, "
            + $"{PlannedFault.Seconds(settings.Duration)} of handoffs; files in {folder}");
        progress(Schedule(plan));
        var journal = new ChaosJournal();
        var violations = new List<string>();
        IReadOnlyList<InjectedFault> injected = [];
        IReadOnlyList<string> events = [];
        IReadOnlyDictionary<string, int> outcomes = new Dictionary<string, int>();
        IReadOnlyList<PaymentEnd> ends = [];
        await using (var household = await ChaosHousehold.StartAsync(topology, folder, settings.Postgres, time, progress, cancellation))
        {
            var started = time.GetTimestamp();
            var startedAt = time.GetUtcNow();
            progress($"household up in {PlannedFault.Seconds(time.GetElapsedTime(begun))}; faults and handoffs begin");
            var faults = new ChaosFaults(household, time, started, progress);
            using var stopSupervising = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var supervising = faults.SuperviseAsync(stopSupervising.Token);
            using var agents = new AgentCalls(household, time);
            await using var watchers = new ChaosWatchers(household, time);
            var workload = new ChaosWorkload(household, agents, watchers, journal, settings.Seed, time);
            using (var stopStarting = new CancellationTokenSource(settings.Duration, time))
            {
                var driving = workload.RunAsync(stopStarting.Token, cancellation);
                await faults.RunAsync(plan, cancellation);
                await driving;
            }

            progress($"  t+{PlannedFault.Seconds(faults.Now),6}  handoffs done: {journal.Payments.Count(payment => payment.Accepted)} accepted; healing");
            try
            {
                await faults.HealedAsync(HealWithin);
            }
            catch (TimeoutException notHealed)
            {
                violations.Add($"healing: {notHealed.Message}");
            }

            progress($"  t+{PlannedFault.Seconds(faults.Now),6}  healed; one more handoff, which must complete");
            var healed = await workload.AfterHealingAsync(cancellation);

            var bound = journal.Payments.Select(payment => payment.Deadline ?? time.GetUtcNow()).Append(time.GetUtcNow()).Max() + settings.Grace;
            progress($"  t+{PlannedFault.Seconds(faults.Now),6}  waiting for every payment to end (at the latest {bound:HH:mm:ss}: the last deadline and {settings.Grace.TotalSeconds:0} s of grace)");
            await EndedAsync(household, journal, bound, time, cancellation);
            await watchers.StopAsync(WatchersWithin);
            var (store, audit) = await RecoveredAsync(household, bound, time, cancellation);
            progress($"  t+{PlannedFault.Seconds(faults.Now),6}  checking {store.Payments.Count} stored payments and {audit.Charges} charges");
            violations.AddRange(faults.Problems.Select(problem => $"healing: {problem}"));
            violations.AddRange(ChaosVerdict.Judge(store, audit, journal, household.Programs, settings.Grace));
            violations.AddRange(ChaosVerdict.JudgeHealed(store, healed));
            outcomes = audit.PaymentsByState;
            ends = [.. store.Payments.Select(pair => new PaymentEnd(
                    pair.Key,
                    journal.Find(pair.Key) is { } asked ? asked.Plan.Index == HandoffPlan.Healed ? "afterHealing" : Camel(asked.Plan.Kind) : "unknown",
                    pair.Value.State.ToString(),
                    Math.Round((pair.Value.History[^1].At - startedAt).TotalSeconds, 1)))
                .OrderBy(end => end.At)];
            await stopSupervising.CancelAsync();
            await supervising;
            injected = faults.Injected;
            events = [.. faults.Events];
            if (violations.Count == 0 && !settings.Keep && settings.Postgres is { } server)
            {
                await household.DisposeAsync();
                await household.DropDatabaseAsync(server);
            }
        }

        if (violations.Count == 0 && !settings.Keep)
        {
            Directory.Delete(folder, recursive: true);
        }

        var accepted = journal.Payments.Where(payment => payment.Accepted).ToList();
        return new ChaosReport(
            settings.Seed,
            topology.Storage.ToString().ToLowerInvariant(),
            topology.Hubs,
            topology.Payers,
            settings.Duration.TotalSeconds,
            accepted.Count,
            journal.Payments.Where(payment => payment.Refused is not null).GroupBy(payment => payment.Refused!).OrderBy(group => group.Key, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Count()),
            journal.Payments.Count(payment => !payment.Accepted && payment.Refused is null),
            outcomes,
            accepted.GroupBy(payment => Camel(payment.Plan.Kind)).OrderBy(group => group.Key, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Count()),
            accepted.Sum(payment => payment.RefundsConfirmed.Count),
            [.. injected.Select(fault => FaultView.Of(fault.At, fault.Planned, fault.Skipped))],
            violations,
            ends,
            events,
            folder,
            Math.Round(time.GetElapsedTime(begun).TotalSeconds, 1));
    }

    /// <summary>The schedule as the run prints it before it starts.</summary>
    public static string Schedule(IReadOnlyList<PlannedFault> plan) =>
        $"schedule: {plan.Count} faults{(plan.Count == 0 ? string.Empty : Environment.NewLine)}"
        + string.Join(Environment.NewLine, plan.Select(fault =>
            $"  t+{PlannedFault.Seconds(fault.At),6}  {fault.Kind.ToString().ToLowerInvariant(),-7}  {fault.Process,-8} {fault.Describe()}"));

    /// <summary>Waits (bounded) until every payment the run asked for has ended, asking its authority through the SDK.</summary>
    private static async Task EndedAsync(ChaosHousehold household, ChaosJournal journal, DateTimeOffset bound, TimeProvider time, CancellationToken cancellation)
    {
        while (time.GetUtcNow() < bound)
        {
            var open = journal.Payments.Where(payment => !payment.Ended && payment.Refused is null).ToList();
            if (open.Count == 0)
            {
                return;
            }

            foreach (var payment in open)
            {
                try
                {
                    payment.Ended |= (await household.Tv.GetPaymentAsync(payment.PaymentId)).IsTerminal;
                }
                catch (NotFoundException)
                {
                    // Asked, never answered, and not there: nothing to wait for (the verdict checks it was not accepted).
                    payment.Ended = true;
                }
                catch (Exception unanswered) when (unanswered is not OperationCanceledException || !cancellation.IsCancellationRequested)
                {
                    // A hub still rejoining: ask again.
                    household.Log($"status of {payment.PaymentId} unanswered: {unanswered.GetType().Name}: {unanswered.Message}");
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellation);
        }
    }

    /// <summary>The store and its ledger check, read again (bounded) while recovery still has something to finish.</summary>
    private static async Task<(StoredState Store, LedgerReport Audit)> RecoveredAsync(ChaosHousehold household, DateTimeOffset bound, TimeProvider time, CancellationToken cancellation)
    {
        while (true)
        {
            var store = household.Database is { } database
                ? await StoredState.FromPostgresAsync(database, cancellation)
                : await StoredState.FromSqliteAsync(household.DataDirectory, cancellation);
            var audit = LedgerAudit.Check(store);
            if (audit.Pending.Count == 0 || time.GetUtcNow() >= bound)
            {
                return (store, audit);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellation);
        }
    }

    private static string Camel(HandoffKind kind) => JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    private static string Count(int count, string what) => string.Create(CultureInfo.InvariantCulture, $"{count} {what}{(count == 1 ? string.Empty : "s")}");
}
