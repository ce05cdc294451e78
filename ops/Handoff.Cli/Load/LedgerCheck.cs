using Handoff.Contracts;
using Handoff.Sdk;

namespace Handoff.Cli.Load;

/// <summary>The ledger's invariants after a run, as read back through the household's grains.</summary>
internal sealed record LedgerCheckResult(bool Clean, int Households, long Charges, long CompletedSeen, int PaymentsReread, IReadOnlyList<string> Violations);

/// <summary>
/// Checks every simulated household's ledger against what the initiators saw: money conserved per currency,
/// exactly one charge (with its own amount) per Completed payment, no charge for a payment that did not complete.
/// </summary>
internal static class LedgerCheck
{
    private const int MaxViolations = 20;

    public static async Task<LedgerCheckResult> RunAsync(LoadHousehold household, LoadOutcome outcome)
    {
        var violations = new List<string>();
        void Violation(string text)
        {
            if (violations.Count < MaxViolations)
            {
                violations.Add(text);
            }
        }

        var charges = 0L;
        var chargeIds = new List<HashSet<string>>();
        var entries = new List<Dictionary<string, LedgerEntry>>();
        for (var index = 0; index < household.Households.Count; index++)
        {
            var simulated = household.Households[index];
            var snapshot = await household.Client.GetGrain<ILedgerGrain>(simulated.Id).GetSnapshotAsync();
            charges += snapshot.Entries.Count;
            foreach (var currency in snapshot.Balances.GroupBy(balance => balance.Key[(balance.Key.LastIndexOf('/') + 1)..]))
            {
                var sum = currency.Sum(balance => balance.Value);
                if (sum != 0)
                {
                    Violation($"{simulated.Id}: money not conserved in {currency.Key} (balances sum to {sum})");
                }
            }

            var byPayment = new Dictionary<string, LedgerEntry>();
            foreach (var entry in snapshot.Entries)
            {
                if (!byPayment.TryAdd(entry.PaymentId, entry))
                {
                    Violation($"{simulated.Id}: payment {entry.PaymentId} charged more than once");
                }
            }

            entries.Add(byPayment);
            var cents = snapshot.Entries.Sum(entry => entry.Amount * 100);
            if (snapshot.Entries.Count != outcome.CompletedByHousehold[index] || cents != outcome.CentsByHousehold[index])
            {
                Violation($"{simulated.Id}: {snapshot.Entries.Count} charges totalling {cents / 100:0.00}, but {outcome.CompletedByHousehold[index]} payments completed totalling {outcome.CentsByHousehold[index] / 100m:0.00}");
            }
        }

        foreach (var (index, paymentId) in outcome.NotCompleted)
        {
            if (entries[index].ContainsKey(paymentId))
            {
                Violation($"{household.Households[index].Id}: payment {paymentId} did not complete but was charged");
            }
        }

        var reread = 0;
        foreach (var (index, paymentId, cents) in outcome.CompletedSample)
        {
            var simulated = household.Households[index];
            var payment = await new HandoffClient(household.Client, simulated.Id, simulated.InitiatorId).GetPaymentAsync(paymentId);
            reread++;
            if (payment.State != PaymentState.Completed)
            {
                Violation($"{paymentId}: seen Completed by its initiator, stored as {payment.State}");
            }
            else if (!entries[index].TryGetValue(paymentId, out var entry) || entry.Amount * 100 != cents)
            {
                Violation($"{paymentId}: Completed without exactly one charge of its own amount");
            }
        }

        return new LedgerCheckResult(violations.Count == 0, household.Households.Count, charges, outcome.Completed, reread, violations);
    }
}
