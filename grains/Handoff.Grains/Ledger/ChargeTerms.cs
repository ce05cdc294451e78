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
    }

    /// <summary>The entry holding a payment id answers a charge only when it has that charge's terms.</summary>
    public static LedgerEntry SameTerms(LedgerEntry existing, ChargeRequest charge) =>
        existing.Amount == charge.Amount
        && existing.Currency == charge.Currency
        && existing.DebitAccount == charge.PayerAccount
        && existing.CreditAccount == charge.MerchantAccount
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
        now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond)));
}
