using Handoff.Contracts;
using Handoff.Sdk;

namespace Handoff.Cli.Load;

/// <summary>The ledger's invariants after a run, as read back through the household's grains.</summary>
internal sealed record LedgerCheckResult(bool Clean, int Households, long Charges, long CompletedSeen, int PaymentsReread, IReadOnlyList<string> Violations);

/// <summary>
/// Checks every simulated household's ledger against what the initiators saw: money conserved per currency,
/// balances equal to their journal, exactly one charge (with its own amount) per Completed payment, no charge
/// for a payment that did not complete. The journal is read in pages, so a ledger of any length fits.
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
        var entries = new List<Dictionary<string, LedgerEntry>>();
        for (var index = 0; index < household.Households.Count; index++)
        {
            var simulated = household.Households[index];
            // Read as the household's administrator: a ledger answers only a session of its own household.
            var ledger = household.Admin(simulated.Id);
            var summary = await ledger.GetLedgerSummaryAsync();
            foreach (var currency in summary.Balances.GroupBy(balance => LedgerAccounts.CurrencyOf(balance.Key)))
            {
                var sum = currency.Sum(balance => balance.Value);
                if (sum != 0)
                {
                    Violation($"{simulated.Id}: money not conserved in {currency.Key} (balances sum to {sum})");
                }
            }

            // The journal, a page at a time: one payment per entry, and the entries add up to the balances.
            var byPayment = new Dictionary<string, LedgerEntry>();
            var replayed = new Dictionary<string, decimal>(StringComparer.Ordinal);
            var read = 0L;
            var cents = 0m;
            for (var after = 0L; ;)
            {
                var page = await ledger.GetLedgerEntriesAsync(after, ILedgerGrain.MaxPageSize);
                foreach (var entry in page)
                {
                    read++;
                    cents += entry.Amount * 100;
                    if (!byPayment.TryAdd(entry.PaymentId, entry))
                    {
                        Violation($"{simulated.Id}: payment {entry.PaymentId} charged more than once");
                    }

                    var debit = LedgerAccounts.BalanceKey(entry.DebitAccount, entry.Currency);
                    var credit = LedgerAccounts.BalanceKey(entry.CreditAccount, entry.Currency);
                    replayed[debit] = replayed.GetValueOrDefault(debit) - entry.Amount;
                    replayed[credit] = replayed.GetValueOrDefault(credit) + entry.Amount;
                }

                if (page.Count < ILedgerGrain.MaxPageSize)
                {
                    break;
                }

                after = page[^1].Sequence;
            }

            charges += read;
            entries.Add(byPayment);
            if (read != summary.EntryCount)
            {
                Violation($"{simulated.Id}: the summary counts {summary.EntryCount} entries, the journal has {read}");
            }

            foreach (var key in summary.Balances.Keys.Union(replayed.Keys).Where(key => summary.Balances.GetValueOrDefault(key) != replayed.GetValueOrDefault(key)))
            {
                Violation($"{simulated.Id}: balance of {key} is {summary.Balances.GetValueOrDefault(key)} but its entries add up to {replayed.GetValueOrDefault(key)}");
            }

            if (read != outcome.CompletedByHousehold[index] || cents != outcome.CentsByHousehold[index])
            {
                Violation($"{simulated.Id}: {read} charges totalling {cents / 100:0.00}, but {outcome.CompletedByHousehold[index]} payments completed totalling {outcome.CentsByHousehold[index] / 100m:0.00}");
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
            var payment = await household.Admin(simulated.Id).GetPaymentAsync(paymentId);
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
