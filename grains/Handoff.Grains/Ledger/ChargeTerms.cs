using Handoff.Contracts;

namespace Handoff.Grains.Ledger;

/// <summary>What a charge must say before the ledger takes it, and when a stored entry answers it.</summary>
internal static class ChargeTerms
{
    public static void Validate(ChargeRequest charge)
    {
        if (string.IsNullOrEmpty(charge.PaymentId))
        {
            throw new ValidationException("paymentId", "a charge needs its payment id", ErrorCodes.MissingField);
        }

        if (charge.Amount <= 0)
        {
            throw new ValidationException("amount", "a charge must be positive");
        }

        if (string.IsNullOrEmpty(charge.Currency))
        {
            throw new ValidationException("currency", "a charge needs a currency", ErrorCodes.MissingField);
        }

        if (string.IsNullOrEmpty(charge.PayerAccount) || string.IsNullOrEmpty(charge.MerchantAccount))
        {
            throw new ValidationException(string.IsNullOrEmpty(charge.PayerAccount) ? "payerAccount" : "merchantAccount", "a charge needs both accounts", ErrorCodes.MissingField);
        }

        if (charge.PayerAccount == charge.MerchantAccount)
        {
            throw new ValidationException("merchantAccount", "a charge moves money between two different accounts");
        }

        if (charge.Evidence is { } evidence)
        {
            ValidateEvidence(evidence);
        }
    }

    private static void ValidateEvidence(ChargeEvidence evidence)
    {
        if (evidence.Version != ChargeEvidence.CurrentVersion)
        {
            throw new ValidationException("evidence", $"evidence of version {evidence.Version} is not one this ledger writes ({ChargeEvidence.CurrentVersion})");
        }

        if ((evidence.Basis == EvidenceBasis.Signatures) != (evidence.Signed.Count > 0))
        {
            throw new ValidationException("evidence", $"evidence by {evidence.Basis} with {evidence.Signed.Count} signed statement(s): signatures carry statements, nothing else does");
        }

        foreach (var signed in evidence.Signed)
        {
            if (string.IsNullOrEmpty(signed.DeviceId) || signed.Statement is not { Length: > 0 } || signed.Signature is not { Length: 64 } || signed.PublicKey is not { Length: > 0 })
            {
                throw new ValidationException("evidence", "a signed statement needs its device, its statement, a 64-byte signature and the signer's key", ErrorCodes.MissingField);
            }
        }
    }

    /// <summary>
    /// The entry holding a payment id answers a charge only when it has that charge's terms: the same money between the
    /// same accounts, and the same evidence. A retried charge carries the evidence its payment kept when the approval won,
    /// so it is the first one's, byte for byte, after any crash or restart; other evidence under the same payment id is
    /// another authorization, which is a conflict. An entry stored without evidence, or a charge without it (both of an
    /// earlier version), claims none, and its money decides.
    /// </summary>
    public static LedgerEntry SameTerms(LedgerEntry existing, ChargeRequest charge) =>
        existing.Amount == charge.Amount
        && existing.Currency == charge.Currency
        && existing.DebitAccount == charge.PayerAccount
        && existing.CreditAccount == charge.MerchantAccount
        && (existing.Evidence is null || charge.Evidence is null || existing.Evidence.Equals(charge.Evidence))
            ? existing
            : throw new ConflictException($"payment '{charge.PaymentId}' was already charged with other terms");

    public static LedgerEntry NewEntry(ChargeRequest charge, long sequence, DateTimeOffset now) => new(
        sequence,
        charge.PaymentId,
        charge.PayerAccount,
        charge.MerchantAccount,
        charge.Amount,
        charge.Currency,
        // The stores keep microseconds: an entry read back must equal the one returned now.
        now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond)),
        charge.Evidence);
}
