using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains;

namespace Handoff.Cli.Ledger;

/// <summary>
/// The household rules' part of <c>handoff ledger check</c>: members' budgets are spent within their months, and a
/// guardian's approval of a member's request is kept with both signatures.
/// </summary>
internal static class BudgetAudit
{
    /// <summary>
    /// Replays a household's journal in entry order: every budget account is credited only by its refills (from a
    /// program, into the member's budget named by the reference, in its currency, one per month, recorded by the rules
    /// with that month's budget and never filling the account above it) and by refunds, and never goes below zero.
    /// </summary>
    public static void Check(string household, StoredLedger ledger, RulesRecord? rules, List<string> violations, List<string> pending)
    {
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var below = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in ledger.Entries.OrderBy(entry => entry.Sequence))
        {
            var debit = LedgerAccounts.BalanceKey(entry.DebitAccount, entry.Currency);
            var credit = LedgerAccounts.BalanceKey(entry.CreditAccount, entry.Currency);
            var spent = balances[debit] = balances.GetValueOrDefault(debit) - entry.Amount;
            var filled = balances[credit] = balances.GetValueOrDefault(credit) + entry.Amount;
            if (LedgerAccounts.BudgetOf(entry.DebitAccount) is { } spender && spent < 0 && below.Add(debit))
            {
                violations.Add($"ledger '{household}': {spender} spent beyond their budget: {entry.DebitAccount} went to {spent} {entry.Currency} at entry {entry.Sequence}");
            }

            var refill = LedgerAccounts.RefillOf(entry.PaymentId);
            if (refill is { } month)
            {
                CheckRefill(household, entry, month, filled, rules, violations, pending);
            }
            else if (LedgerAccounts.BudgetOf(entry.CreditAccount) is { } member && LedgerAccounts.RefundedPayment(entry.PaymentId) is null)
            {
                violations.Add($"ledger '{household}': entry {entry.Sequence} puts {entry.Amount} {entry.Currency} into {member}'s budget, and is neither a refill nor a refund");
            }
        }
    }

    private static void CheckRefill(
        string household,
        LedgerEntry entry,
        (string MemberId, string Currency, string Month) refill,
        decimal filled,
        RulesRecord? rules,
        List<string> violations,
        List<string> pending)
    {
        if (entry.CreditAccount != LedgerAccounts.BudgetAccount(refill.MemberId) || entry.Currency != refill.Currency || LedgerAccounts.ProgramOf(entry.DebitAccount) is null)
        {
            violations.Add($"ledger '{household}': refill entry {entry.Sequence} moves {entry.Currency} from {entry.DebitAccount} to {entry.CreditAccount}, not from a program to {refill.MemberId}'s {refill.Currency} budget");
            return;
        }

        var recorded = rules?.Refills.FirstOrDefault(known => known.MemberId == refill.MemberId && known.Currency == refill.Currency && known.Month == refill.Month);
        if (recorded is null)
        {
            pending.Add($"refill of {refill.MemberId}'s {refill.Currency} budget for {refill.Month} is booked and not yet recorded: the rules record it at their next read");
        }
        else if (filled > recorded.Monthly)
        {
            violations.Add($"ledger '{household}': the refill of {refill.MemberId}'s budget for {refill.Month} (entry {entry.Sequence}) filled it to {filled} {refill.Currency}, over that month's budget of {recorded.Monthly}");
        }
    }

    /// <summary>
    /// A member's request that a guardian approved keeps the member's device's signature over the request and the
    /// guardian's device's over the guardian approval that names it; both verify with the devices' keys (a device
    /// removed since cannot be checked, and is said so).
    /// </summary>
    public static void CheckSignatures(string paymentId, PaymentRecord payment, IReadOnlyDictionary<string, RegisteredKey> keys, List<string> violations, List<string> pending)
    {
        if (payment.Rule is not { NeedsGuardian: true } || payment.Payer is null || payment.Input is not { } input)
        {
            return;
        }

        if (payment.Approval is not { } approval)
        {
            violations.Add($"payment '{paymentId}' of {payment.AskedBy?.Name} needed a guardian and was approved on {payment.Payer} without a guardian's approval kept");
            return;
        }

        var statements = new[]
        {
            (Device: input.InitiatorDeviceId, What: $"{payment.AskedBy?.Name}'s request", Statement: Signing.Request(input), Signature: input.Signature),
            (Device: approval.DeviceId, What: $"{approval.Guardian.Name}'s approval", Statement: Signing.Approval(payment.ToOffer(paymentId, approval.DeviceId), approval.Method, approval.ProgramId), Signature: approval.Signature),
        };
        foreach (var (device, what, statement, signature) in statements)
        {
            if (!keys.TryGetValue(device, out var key))
            {
                pending.Add($"payment '{paymentId}': {what} was signed by device '{device}', which is no longer paired: its signature cannot be checked");
            }
            else if (!Signing.Verify(key.PublicKey, statement, signature))
            {
                violations.Add($"payment '{paymentId}': {what} does not carry a valid signature of device '{device}'");
            }
        }
    }
}
