using System.Globalization;
using Handoff.Cli.Ledger;
using Handoff.Contracts;
using Handoff.Grains;

namespace Handoff.Cli.Chaos;

/// <summary>
/// The invariants a chaos run is judged on, over the durable store once everything healed and every deadline passed:
/// the ledger's own (<see cref="LedgerAudit"/>: money conserved, no payment charged twice, each Completed one charged once
/// with its own terms, refunds never beyond the charge, no program below its floor) and those that need what the run
/// did and heard (<see cref="ChaosJournal"/>): every accepted payment stored and ended, with its own terms, by its
/// deadline plus the grace; none authorized but by a payer device that was given its PIN for it; nothing the household
/// answered later unsaid; every SDK watcher saw the states in order without a gap; every confirmed refund booked.
/// </summary>
internal static class ChaosVerdict
{
    public static IReadOnlyList<string> Judge(StoredState store, LedgerReport audit, ChaosJournal journal, IReadOnlyDictionary<string, IReadOnlyList<string>> programs, TimeSpan grace)
    {
        var violations = new List<string>();
        violations.AddRange(audit.Violations.Select(violation => $"ledger: {violation}"));
        violations.AddRange(audit.Pending.Select(pending => $"not recovered in time: {pending}"));
        foreach (var payment in journal.Payments)
        {
            var stored = store.Payments.GetValueOrDefault(payment.PaymentId);
            if (stored is null)
            {
                if (payment.Accepted)
                {
                    violations.Add($"payment {payment.PaymentId} was accepted but is not in the store");
                }

                continue;
            }

            if (payment.Refused is { } code)
            {
                violations.Add($"payment {payment.PaymentId} was refused ({code}) but the store has it, {stored.State}");
            }

            JudgeStored(payment, stored, programs, grace, violations);
            JudgeWatches(payment, stored, violations);
        }

        violations.AddRange(store.Payments.Keys.Where(id => journal.Find(id) is null).Order(StringComparer.Ordinal)
            .Select(id => $"payment {id} is in the store, but the run never asked for it"));
        return violations;
    }

    /// <summary>Once everything healed, the household works: the handoff made then (<see cref="HandoffPlan.AfterHealing"/>) completed.</summary>
    public static IReadOnlyList<string> JudgeHealed(StoredState store, PaymentJournal healed) =>
        store.Payments.GetValueOrDefault(healed.PaymentId) is { State: PaymentState.Completed }
            ? []
            : [$"after healing, a new handoff did not complete: payment {healed.PaymentId} is {store.Payments.GetValueOrDefault(healed.PaymentId)?.State.ToString() ?? (healed.Refused is { } code ? $"refused ({code})" : "not in the store")}"];

    private static void JudgeStored(PaymentJournal payment, PaymentRecord stored, IReadOnlyDictionary<string, IReadOnlyList<string>> programs, TimeSpan grace, List<string> violations)
    {
        var id = payment.PaymentId;
        var plan = payment.Plan;
        var input = stored.Input!;
        if (!input.Info.SameTermsAs(plan.Info) || input.PayerDeviceId != plan.AskedFor || input.InitiatorDeviceId != ChaosTopology.Initiator)
        {
            violations.Add($"payment {id} is stored as {input.Info.Amount} {input.Info.Currency} to {input.Info.Merchant} from {input.InitiatorDeviceId} for {input.PayerDeviceId}, "
                + $"not as asked: {plan.Info.Amount} {plan.Info.Currency} to {plan.Info.Merchant} from {ChaosTopology.Initiator} for {plan.AskedFor}");
        }

        if (!stored.State.IsTerminal())
        {
            violations.Add($"payment {id} is still {stored.State}, past its deadline {stored.Deadline:HH:mm:ss.fff} and the grace of {grace.TotalSeconds:0} s");
        }
        else if (stored.History[^1].At > stored.Deadline + grace)
        {
            violations.Add($"payment {id} ended {stored.State} at {stored.History[^1].At:HH:mm:ss.fff}, later than its deadline {stored.Deadline:HH:mm:ss.fff} and the grace of {grace.TotalSeconds:0} s");
        }

        // Only a payer device that was given its PIN for this very payment signs an approval; the store shows which one did.
        if (stored.History.FirstOrDefault(step => step.To == PaymentState.Authorized) is { } authorized)
        {
            var device = authorized.Device;
            var asked = payment.Approvals.Where(approval => approval.Device == device && approval.RightPin).ToList();
            var program = stored.Funding?.ProgramId;
            if (!stored.Payers.Contains(device))
            {
                violations.Add($"payment {id} was authorized by {device}, which it was not offered to ({string.Join(", ", stored.Payers)})");
            }

            if (asked.Count == 0)
            {
                violations.Add($"payment {id} was authorized by {device}, which was never given its PIN for it");
            }
            else if (!asked.Any(approval => approval.Program == program || (approval.Program is null && (program is null || programs.GetValueOrDefault(device, []).Contains(program)))))
            {
                violations.Add($"payment {id} was paid with {program ?? $"{device}'s own account"}, which no approval on {device} chose ({string.Join(", ", asked.Select(approval => approval.Program ?? "its default"))})");
            }
        }

        var history = ChaosStep.Of(stored.History);
        foreach (var (source, answered) in payment.Answers)
        {
            if (!StartsWith(history, answered))
            {
                violations.Add($"payment {id}: '{source}' answered {Render(answered)}, which is not how the store has it: {Render(history)}");
            }
        }

        foreach (var (key, amount) in payment.RefundsConfirmed)
        {
            if (stored.Refunds.FirstOrDefault(refund => refund.Key == key) is not { Booked: true } refund || refund.Amount != amount)
            {
                violations.Add($"payment {id}: refund '{key}' of {amount} was confirmed, but the store has {stored.Refunds.FirstOrDefault(refund => refund.Key == key)?.ToString() ?? "no such refund"}");
            }
        }
    }

    /// <summary>Each watch saw every state once, in order; a new watch (after a fault cut the last) took up where it ended; the last saw the end the store has.</summary>
    private static void JudgeWatches(PaymentJournal payment, PaymentRecord stored, List<string> violations)
    {
        if (!payment.Accepted)
        {
            return;
        }

        var id = payment.PaymentId;
        var watches = payment.Watches.ToList();
        IReadOnlyList<ChaosStep>? last = null;
        foreach (var watch in watches)
        {
            if (last is not null && !StartsWith(watch[0], last))
            {
                violations.Add($"payment {id}: a new SDK watch began at {Render(watch[0])}, which does not follow what the last one saw, {Render(last)}");
            }

            for (var n = 1; n < watch.Count; n++)
            {
                if (watch[n].Count != watch[n - 1].Count + 1 || !StartsWith(watch[n], watch[n - 1]))
                {
                    violations.Add($"payment {id}: the SDK watcher went from {Render(watch[n - 1])} to {Render(watch[n])}: not the next state");
                }
            }

            last = watch[^1];
        }

        var history = ChaosStep.Of(stored.History);
        if (last is null)
        {
            violations.Add($"payment {id}: no SDK watch of it ever got an answer");
        }
        else if (!last.SequenceEqual(history))
        {
            violations.Add($"payment {id}: the SDK watcher's last state was {Render(last)}, but the store has {Render(history)}");
        }
    }

    private static bool StartsWith(IReadOnlyList<ChaosStep> history, IReadOnlyList<ChaosStep> prefix) =>
        prefix.Count <= history.Count && prefix.SequenceEqual(history.Take(prefix.Count));

    private static string Render(IReadOnlyList<ChaosStep> history) =>
        history.Count == 0
            ? "(nothing)"
            : string.Join(" -> ", [history[0].From.ToString(), .. history.Select(step => string.Create(CultureInfo.InvariantCulture, $"{step.To} ({step.Device} {step.At:HH:mm:ss.fff})"))]);
}
