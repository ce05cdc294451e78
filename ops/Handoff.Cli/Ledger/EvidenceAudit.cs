using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Cli.Ledger;

/// <summary>
/// How many journal rows carry signed statements, how many say who moved money no device signs (top-ups and budgets'
/// refills), and how many were stored before rows kept their evidence.
/// </summary>
internal sealed record EvidenceCounts(int Signed, int Unsigned, int None);

/// <summary>
/// The evidence part of <c>handoff ledger check</c>, from each row alone: a payment's charge carries its initiator's
/// request and one approval (a payer's, or a guardian's that names that very request, signed by another device than the
/// one that asked and none of the asker's), a refund its initiator's refund, a top-up the administrator and a refill the
/// household's rules. Each signature verifies over its statement with the key the row carries, that key is the device's
/// registered one while the device is paired (and was not paired again since), and each statement's terms are the row's:
/// its payment (or refund), amount, currency, the merchant it credits and the account it debits. Statements are read
/// back with <see cref="Signing.Read"/>, never encoded here. A row stored before evidence was kept is counted as such.
/// </summary>
internal sealed class EvidenceAudit(StoredState store, List<string> violations, List<string> pending)
{
    private int _signed;
    private int _unsigned;
    private int _none;

    public EvidenceCounts Counts => new(_signed, _unsigned, _none);

    public void Check(string household, StoredLedger ledger)
    {
        violations.AddRange(ledger.UnreadableEvidence.Select(problem => $"ledger '{household}': {problem}"));
        LedgerEntry? firstWithEvidence = null;
        foreach (var entry in ledger.Entries.OrderBy(entry => entry.Sequence))
        {
            var row = new Row(household, entry, violations);
            if (entry.Evidence is null && firstWithEvidence is not null)
            {
                // Valid, as every row without evidence is; but said, since a row written around the hub would look the same.
                pending.Add($"{row.Name} carries no evidence though entry {firstWithEvidence.Sequence} before it does: a charge of a payment made before the hub was upgraded, or a row written around the hub");
            }

            firstWithEvidence ??= entry.Evidence is null ? null : entry;
            Check(row);
        }
    }

    private void Check(Row row)
    {
        var reference = row.Entry.PaymentId;
        if (row.Entry.Evidence is not { } evidence)
        {
            _none++;
            return;
        }

        var expected = LedgerAccounts.IsTopUp(reference) ? EvidenceBasis.AdminToken
            : LedgerAccounts.RefillOf(reference) is not null ? EvidenceBasis.HouseholdRules
            : EvidenceBasis.Signatures;
        if (evidence.Basis != expected)
        {
            row.Violation($"its evidence says {Who(evidence.Basis)} moved it, not {Who(expected)}");
            return;
        }

        if (expected != EvidenceBasis.Signatures)
        {
            _unsigned++;
            return;
        }

        _signed++;
        var statements = new List<(SignedStatement Signed, StatementTerms Terms)>();
        foreach (var signed in evidence.Signed)
        {
            if (Signing.Read(signed.Statement) is { } terms)
            {
                CheckSignature(row, signed, terms);
                statements.Add((signed, terms));
            }
            else
            {
                row.Violation($"device '{signed.DeviceId}' signed something that is no statement this version reads");
            }
        }

        if (LedgerAccounts.RefundedPayment(reference) is { } paymentId)
        {
            CheckRefund(row, paymentId, statements);
        }
        else
        {
            CheckCharge(row, statements);
        }
    }

    private void CheckSignature(Row row, SignedStatement signed, StatementTerms terms)
    {
        var what = What(terms);
        if (terms.Signer != signed.DeviceId)
        {
            row.Violation($"the {what} names device '{terms.Signer}' as its signer but is kept as device '{signed.DeviceId}''s");
        }

        if (!signed.Verifies)
        {
            row.Violation($"the {what} of device '{signed.DeviceId}' does not verify with the key it carries");
        }
        else if (!store.DeviceKeys.TryGetValue(signed.DeviceId, out var registered))
        {
            pending.Add($"{row.Name}: device '{signed.DeviceId}', which signed the {what}, is no longer paired: its key cannot be matched against a registered one");
        }
        else if (!registered.PublicKey.AsSpan().SequenceEqual(signed.PublicKey))
        {
            if (registered.RegisteredAt > row.Entry.At)
            {
                pending.Add($"{row.Name}: device '{signed.DeviceId}', which signed the {what}, was paired again since: its key then cannot be matched against the one registered now");
            }
            else
            {
                row.Violation($"the {what} was signed with a key that is not device '{signed.DeviceId}''s registered key");
            }
        }
    }

    private void CheckCharge(Row row, List<(SignedStatement Signed, StatementTerms Terms)> statements)
    {
        var requests = statements.Where(statement => statement.Terms.IsRequest).ToList();
        var approvals = statements.Where(statement => statement.Terms.IsApproval).ToList();
        if (requests.Count != 1 || approvals.Count != 1 || statements.Count != 2)
        {
            row.Violation($"its evidence holds {requests.Count} request(s) and {approvals.Count} approval(s) among {statements.Count} statement(s), not one request and one approval");
            return;
        }

        var (request, asked) = requests[0];
        var (approval, approved) = approvals[0];
        var household = asked[StatementField.Household];
        var paymentId = PaymentIds.For(household, asked[StatementField.Initiator], asked[StatementField.OrderKey]);
        if (paymentId != row.Entry.PaymentId)
        {
            row.Violation($"the request is for payment '{paymentId}'");
        }

        if (approved[StatementField.Payment] != row.Entry.PaymentId)
        {
            row.Violation($"the {What(approved)} is for payment '{approved[StatementField.Payment]}'");
        }

        CheckTerms(row, "request", asked);
        CheckTerms(row, What(approved), approved);
        var payer = approved[StatementField.Payer];
        var program = approved[StatementField.Program];
        if (!LedgerAccounts.PaysFrom(row.Entry.DebitAccount, payer, program))
        {
            row.Violation($"the {What(approved)} pays from {(program.Length == 0 ? LedgerAccounts.PayerAccount(payer) : $"program '{program}'")}, the entry debits {row.Entry.DebitAccount}");
        }

        if (approved[StatementField.Initiator] != request.DeviceId)
        {
            row.Violation($"the {What(approved)} is of a request by device '{approved[StatementField.Initiator]}', the request is device '{request.DeviceId}''s");
        }

        if (approved.IsGuardianApproval)
        {
            CheckGuardian(row, request, approval, approved);
        }
    }

    /// <summary>A guardian's approval names the very request the row carries, and comes from none of the asker's devices.</summary>
    private void CheckGuardian(Row row, SignedStatement request, SignedStatement approval, StatementTerms approved)
    {
        if (approved[StatementField.RequestDigest] != Signing.Digest(request.Statement))
        {
            row.Violation("the guardian approval names another request than the one the entry carries");
        }

        var askedBy = approved[StatementField.AskedBy];
        if (approval.DeviceId == request.DeviceId)
        {
            row.Violation($"the guardian approval is signed by device '{approval.DeviceId}', which asked for the payment");
        }
        else if (store.Members.GetValueOrDefault(row.Household)?.Members.FirstOrDefault(member => member.Devices.Contains(approval.DeviceId)) is { } owner
            && owner.Id == askedBy)
        {
            row.Violation($"the guardian approval is signed by device '{approval.DeviceId}', which is {owner.Name}'s, who asked for the payment");
        }
    }

    private void CheckRefund(Row row, string paymentId, List<(SignedStatement Signed, StatementTerms Terms)> statements)
    {
        if (statements is not [var (signed, refund)] || !refund.IsRefund)
        {
            row.Violation($"its evidence holds {statements.Count} statement(s), not the initiator's refund alone");
            return;
        }

        var reference = LedgerAccounts.RefundReference(refund[StatementField.Payment], refund[StatementField.RefundKey]);
        if (reference != row.Entry.PaymentId)
        {
            row.Violation($"the refund is for '{reference}'");
        }

        if (refund.AmountOf(StatementField.Amount) is { } amount && amount != row.Entry.Amount)
        {
            row.Violation($"the refund gives back {amount}, the entry moves {row.Entry.Amount} {row.Entry.Currency}");
        }

        if (store.Payments.GetValueOrDefault(paymentId)?.Input?.InitiatorDeviceId is { } initiator && signed.DeviceId != initiator)
        {
            row.Violation($"the refund is signed by device '{signed.DeviceId}', not by the payment's initiator '{initiator}'");
        }
    }

    /// <summary>A request's or an approval's household, amount, currency and merchant are the row's.</summary>
    private static void CheckTerms(Row row, string what, StatementTerms terms)
    {
        if (terms[StatementField.Household] != row.Household)
        {
            row.Violation($"the {what} is of household '{terms[StatementField.Household]}'");
        }

        var entry = row.Entry;
        if (terms.AmountOf(StatementField.Amount) != entry.Amount || terms[StatementField.Currency] != entry.Currency)
        {
            row.Violation($"the {what} says {terms[StatementField.Amount]} {terms[StatementField.Currency]}, the entry moves {entry.Amount} {entry.Currency}");
        }

        if (LedgerAccounts.MerchantAccount(terms[StatementField.Merchant]) != entry.CreditAccount)
        {
            row.Violation($"the {what} pays merchant '{terms[StatementField.Merchant]}', the entry credits {entry.CreditAccount}");
        }
    }

    private static string What(StatementTerms terms) =>
        terms.IsRequest ? "request" : terms.IsGuardianApproval ? "guardian approval" : terms.IsApproval ? "approval" : terms.IsRefund ? "refund" : terms.Kind;

    private static string Who(EvidenceBasis basis) => basis switch
    {
        EvidenceBasis.AdminToken => "the administrator",
        EvidenceBasis.HouseholdRules => "the household's rules",
        _ => "signed statements",
    };

    /// <summary>One row being checked, and how its violations name it.</summary>
    private sealed record Row(string Household, LedgerEntry Entry, List<string> Violations)
    {
        public string Name => $"ledger '{Household}': entry {Entry.Sequence} ('{Entry.PaymentId}')";

        public void Violation(string what) => Violations.Add($"{Name}: {what}");
    }
}
