using Handoff.Contracts;
using Handoff.Grains;

namespace Handoff.Cli.Ledger;

/// <summary>What <c>handoff ledger check</c> found.</summary>
internal sealed record LedgerReport(
    int Payments,
    IReadOnlyDictionary<string, int> PaymentsByState,
    int Charges,
    IReadOnlyDictionary<string, decimal> ChargedByCurrency,
    int Refunds,
    IReadOnlyDictionary<string, decimal> RefundedByCurrency,
    IReadOnlyList<string> Pending,
    IReadOnlyList<string> Violations,
    EvidenceCounts Evidence)
{
    public bool Clean => Violations.Count == 0;
}

/// <summary>
/// The ledger's invariants over a store: money is conserved (every currency's balances sum to zero and
/// match the journal), entries are numbered without holes, no payment is charged twice, every Completed
/// payment has exactly one charge with its own terms, and no charge exists without its payment or for a
/// payment that ended unpaid. Refunds (entries under a refund reference) go back from the merchant to the payer
/// that paid, only for a Completed payment, each one as the payment records it, never more in total than the charge.
/// Top-ups go from the household's funding account to a program; replayed in entry order, no payment program's
/// account ever goes below its floor (0 for a wallet, minus the credit limit for a card).
/// Budgets: a member's budget account is credited only by its monthly refills (from a program, one per month, each
/// recorded by the household's rules with the month's budget, never filling it above that) and by refunds, and never
/// goes below zero, so no member spent alone beyond a month's budget and what came back. A member's request that a
/// guardian approved keeps both signatures, the member's device's over the request and the guardian's device's over
/// the guardian approval that names it, and both verify with the devices' keys. Every row's evidence (the signed
/// statements that authorized it) is checked from the row alone (<see cref="EvidenceAudit"/>); the signatures a payment's
/// record keeps are checked only for a charge stored before rows kept their evidence.
/// </summary>
internal static class LedgerAudit
{
    public static LedgerReport Check(StoredState store)
    {
        var violations = new List<string>();
        var pending = new List<string>();
        var charges = new Dictionary<string, (string Household, LedgerEntry Entry)>(StringComparer.Ordinal);
        var refunds = new Dictionary<string, List<(string Household, LedgerEntry Entry)>>(StringComparer.Ordinal);
        var evidence = new EvidenceAudit(store, violations, pending);
        foreach (var household in store.LegacyLedgers)
        {
            violations.Add($"ledger '{household}' is still stored as grain state of the old format, outside the journal tables");
        }

        foreach (var (household, ledger) in store.Ledgers.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            CheckConservation(household, ledger, violations);
            CheckNumbering(household, ledger, violations);
            CheckPrograms(household, ledger, store.Programs.GetValueOrDefault(household), violations);
            BudgetAudit.Check(household, ledger, store.Rules.GetValueOrDefault(household), violations, pending);
            evidence.Check(household, ledger);
            foreach (var entry in ledger.Entries)
            {
                if (LedgerAccounts.IsTopUp(entry.PaymentId) || LedgerAccounts.RefillOf(entry.PaymentId) is not null)
                {
                    continue;
                }

                if (LedgerAccounts.RefundedPayment(entry.PaymentId) is { } refunded)
                {
                    if (!refunds.TryGetValue(refunded, out var list))
                    {
                        refunds[refunded] = list = [];
                    }

                    list.Add((household, entry));
                }

                if (!charges.TryAdd(entry.PaymentId, (household, entry)))
                {
                    var first = charges[entry.PaymentId];
                    violations.Add(first.Household == household
                        ? $"ledger '{household}': payment '{entry.PaymentId}' is charged twice (entries {first.Entry.Sequence} and {entry.Sequence})"
                        : $"payment '{entry.PaymentId}' is charged twice: in ledger '{first.Household}' and in ledger '{household}'");
                }
            }
        }

        foreach (var (paymentId, payment) in store.Payments.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            var charged = charges.TryGetValue(paymentId, out var charge);
            if (!charged || charge.Entry.Evidence is null)
            {
                BudgetAudit.CheckSignatures(paymentId, payment, store.DeviceKeys, violations, pending);
            }

            switch (payment.State)
            {
                case PaymentState.Completed when !charged:
                    violations.Add($"payment '{paymentId}' is Completed but has no charge");
                    break;
                case PaymentState.Completed or PaymentState.Charging when charged:
                    CheckTerms(paymentId, payment, charge.Household, charge.Entry, violations);
                    if (payment.State == PaymentState.Charging)
                    {
                        pending.Add($"payment '{paymentId}' is charged and still Charging: recovery completes it");
                    }

                    break;
                case PaymentState.Charging or PaymentState.Authorized:
                    pending.Add($"payment '{paymentId}' is {payment.State} without a charge yet: recovery charges it once");
                    break;
                case var ended when ended.IsTerminal() && charged:
                    violations.Add($"payment '{paymentId}' ended {ended} but was charged (entry {charge.Entry.Sequence} in ledger '{charge.Household}')");
                    break;
                case var open when !open.IsTerminal() && charged:
                    violations.Add($"payment '{paymentId}' is {open} but already charged");
                    break;
            }
        }

        foreach (var (paymentId, given) in refunds.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            CheckRefunds(paymentId, store.Payments.GetValueOrDefault(paymentId), charges.GetValueOrDefault(paymentId).Entry, given, violations, pending);
        }

        foreach (var (paymentId, payment) in store.Payments.Where(pair => pair.Value.Refunds.Any(refund => refund.Booked) && !refunds.ContainsKey(pair.Key)))
        {
            violations.Add($"payment '{paymentId}' records {payment.Refunds.Count(refund => refund.Booked)} booked refund(s) that no ledger holds");
        }

        foreach (var (paymentId, charge) in charges.Where(pair => LedgerAccounts.RefundedPayment(pair.Key) is null && !store.Payments.ContainsKey(pair.Key)))
        {
            violations.Add($"ledger '{charge.Household}' has a charge of {charge.Entry.Amount} {charge.Entry.Currency} for payment '{paymentId}', which does not exist");
        }

        return new LedgerReport(
            store.Payments.Count,
            store.Payments.Values.GroupBy(payment => payment.State.ToString()).OrderBy(group => group.Key, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Count()),
            charges.Count(pair => LedgerAccounts.RefundedPayment(pair.Key) is null),
            charges.Where(pair => LedgerAccounts.RefundedPayment(pair.Key) is null).Select(pair => pair.Value).GroupBy(charge => charge.Entry.Currency).OrderBy(group => group.Key, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Sum(charge => charge.Entry.Amount)),
            refunds.Values.Sum(list => list.Count),
            refunds.Values.SelectMany(list => list).GroupBy(refund => refund.Entry.Currency).OrderBy(group => group.Key, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Sum(refund => refund.Entry.Amount)),
            pending,
            violations,
            evidence.Counts);
    }

    private static void CheckRefunds(
        string paymentId,
        PaymentRecord? payment,
        LedgerEntry? charge,
        List<(string Household, LedgerEntry Entry)> given,
        List<string> violations,
        List<string> pending)
    {
        if (payment is null || charge is null || payment.State != PaymentState.Completed)
        {
            violations.Add($"ledger '{given[0].Household}' refunds payment '{paymentId}', which {(payment is null ? "does not exist" : charge is null ? "was never charged" : $"is {payment.State}")}");
            return;
        }

        var total = given.Sum(refund => refund.Entry.Amount);
        if (total > charge.Amount)
        {
            violations.Add($"payment '{paymentId}' was refunded {total} {charge.Currency}, more than its charge of {charge.Amount} {charge.Currency}");
        }

        foreach (var (household, entry) in given)
        {
            if (entry.DebitAccount != charge.CreditAccount || entry.CreditAccount != charge.DebitAccount || entry.Currency != charge.Currency)
            {
                violations.Add($"ledger '{household}': refund entry {entry.Sequence} of payment '{paymentId}' moves {entry.Currency} from {entry.DebitAccount} to {entry.CreditAccount}, not back from {charge.CreditAccount} to {charge.DebitAccount}");
            }

            var key = entry.PaymentId[(entry.PaymentId.LastIndexOf('/') + 1)..];
            switch (payment.Refunds.FirstOrDefault(refund => refund.Key == key))
            {
                case null:
                    violations.Add($"ledger '{household}': refund entry {entry.Sequence} of payment '{paymentId}' (key '{key}') is not a refund the payment records");
                    break;
                case { Amount: var amount } when amount != entry.Amount:
                    violations.Add($"refund '{key}' of payment '{paymentId}' is {amount} {charge.Currency} but its ledger entry {entry.Sequence} gives back {entry.Amount}");
                    break;
                case { Booked: false }:
                    pending.Add($"refund '{key}' of payment '{paymentId}' is booked and not yet recorded: recovery records it");
                    break;
            }
        }
    }

    private static void CheckPrograms(string household, StoredLedger ledger, ProgramsRecord? programs, List<string> violations)
    {
        var floors = (programs?.Programs ?? []).ToDictionary(program => LedgerAccounts.ProgramAccount(program.Id), program => program, StringComparer.Ordinal);
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var below = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in ledger.Entries.OrderBy(entry => entry.Sequence))
        {
            if (LedgerAccounts.IsTopUp(entry.PaymentId) && (entry.DebitAccount != LedgerAccounts.FundingAccount || LedgerAccounts.ProgramOf(entry.CreditAccount) is null))
            {
                violations.Add($"ledger '{household}': top-up entry {entry.Sequence} moves {entry.Currency} from {entry.DebitAccount} to {entry.CreditAccount}, not from {LedgerAccounts.FundingAccount} to a program");
            }

            foreach (var (account, delta) in Handoff.Grains.Ledger.LedgerJournal.Postings(entry))
            {
                var balance = balances[account] = balances.GetValueOrDefault(account) + delta;
                if (floors.TryGetValue(account, out var program) && entry.Currency == program.Currency && balance < program.Floor && below.Add(account))
                {
                    violations.Add($"ledger '{household}': program '{program.Id}' went to {balance} {program.Currency} at entry {entry.Sequence}, below its {(program.Kind == ProgramKind.Card ? $"credit limit of {program.Limit}" : "balance")}");
                }
            }
        }
    }

    private static void CheckNumbering(string household, StoredLedger ledger, List<string> violations)
    {
        var sequences = ledger.Entries.GroupBy(entry => entry.Sequence).Where(group => group.Count() > 1);
        violations.AddRange(sequences.Select(group => $"ledger '{household}': entry number {group.Key} is used {group.Count()} times"));

        // Entries are numbered 1, 2, 3, ... as they are appended; a hole means an entry was lost.
        var expected = 1L;
        foreach (var sequence in ledger.Entries.Select(entry => entry.Sequence).Distinct().Order())
        {
            if (sequence != expected)
            {
                violations.Add($"ledger '{household}': entry number {expected} is missing (the next entry is {sequence})");
                return;
            }

            expected++;
        }
    }

    private static void CheckConservation(string household, StoredLedger ledger, List<string> violations)
    {
        foreach (var currency in ledger.Balances.GroupBy(pair => LedgerAccounts.CurrencyOf(pair.Key)))
        {
            var sum = currency.Sum(pair => pair.Value);
            if (sum != 0)
            {
                violations.Add($"ledger '{household}': {currency.Key} balances sum to {sum}, not 0: money was created or lost");
            }
        }

        var fromJournal = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var entry in ledger.Entries)
        {
            var debit = LedgerAccounts.BalanceKey(entry.DebitAccount, entry.Currency);
            var credit = LedgerAccounts.BalanceKey(entry.CreditAccount, entry.Currency);
            fromJournal[debit] = fromJournal.GetValueOrDefault(debit) - entry.Amount;
            fromJournal[credit] = fromJournal.GetValueOrDefault(credit) + entry.Amount;
        }

        foreach (var key in ledger.Balances.Keys.Union(fromJournal.Keys).Order(StringComparer.Ordinal))
        {
            var stored = ledger.Balances.GetValueOrDefault(key);
            var replayed = fromJournal.GetValueOrDefault(key);
            if (stored != replayed)
            {
                violations.Add($"ledger '{household}': balance of {key} is {stored} but its entries add up to {replayed}");
            }
        }
    }

    private static void CheckTerms(string paymentId, PaymentRecord payment, string household, LedgerEntry entry, List<string> violations)
    {
        var input = payment.Input!;

        // The program (or device account) of the approval that won pays: a charge from any other account is not the approved one.
        var payer = payment.PayerAccount ?? LedgerAccounts.PayerAccount("(no approval)");
        if (household != input.HouseholdId
            || entry.Amount != input.Info.Amount
            || entry.Currency != input.Info.Currency
            || entry.DebitAccount != payer
            || entry.CreditAccount != LedgerAccounts.MerchantAccount(input.Info.Merchant))
        {
            violations.Add($"payment '{paymentId}' was charged {entry.Amount} {entry.Currency} from {entry.DebitAccount} to {entry.CreditAccount} in ledger '{household}', "
                + $"not {input.Info.Amount} {input.Info.Currency} from {payer} in '{input.HouseholdId}'");
        }
    }
}
