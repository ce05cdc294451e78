namespace Handoff.Contracts;

/// <summary>The built-in ledger of one household (key: household id): double-entry, idempotent per payment.</summary>
[Alias("handoff.ILedgerGrain")]
public interface ILedgerGrain : IGrainWithStringKey
{
    /// <summary>Moves the amount from the payer's account to the merchant's, once per payment id.</summary>
    [Alias("Charge")]
    Task<LedgerEntry> ChargeAsync(ChargeRequest charge);

    /// <summary>The charge recorded for a payment, or null.</summary>
    [Alias("GetCharge")]
    Task<LedgerEntry?> GetChargeAsync(string paymentId);

    /// <summary>Balances and every entry, for checks and reports.</summary>
    [Alias("GetSnapshot")]
    Task<LedgerSnapshot> GetSnapshotAsync();
}

/// <summary>One charge to make.</summary>
[GenerateSerializer, Immutable, Alias("handoff.ChargeRequest")]
public sealed record ChargeRequest(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string PayerAccount,
    [property: Id(2)] string MerchantAccount,
    [property: Id(3)] decimal Amount,
    [property: Id(4)] string Currency);

/// <summary>One balanced journal entry: the payer is debited, the merchant credited.</summary>
[GenerateSerializer, Immutable, Alias("handoff.LedgerEntry")]
public sealed record LedgerEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string PaymentId,
    [property: Id(2)] string DebitAccount,
    [property: Id(3)] string CreditAccount,
    [property: Id(4)] decimal Amount,
    [property: Id(5)] string Currency,
    [property: Id(6)] DateTimeOffset At);

/// <summary>The ledger as a whole.</summary>
[GenerateSerializer, Immutable, Alias("handoff.LedgerSnapshot")]
public sealed record LedgerSnapshot(
    [property: Id(0)] IReadOnlyDictionary<string, decimal> Balances,
    [property: Id(1)] IReadOnlyList<LedgerEntry> Entries)
{
    /// <summary>Account key of a payer device's account in <see cref="Balances"/>.</summary>
    public static string PayerAccount(string deviceId) => $"payer:{deviceId}";

    /// <summary>Account key of a merchant's account.</summary>
    public static string MerchantAccount(string merchant) => $"merchant:{merchant}";

    /// <summary>Balance key for an account in a currency.</summary>
    public static string BalanceKey(string account, string currency) => $"{account}/{currency}";
}

/// <summary>How the ledger names its accounts and balances.</summary>
public static class LedgerAccounts
{
    /// <summary>Account of a payer device.</summary>
    public static string PayerAccount(string deviceId) => $"payer:{deviceId}";

    /// <summary>Account of a merchant.</summary>
    public static string MerchantAccount(string merchant) => $"merchant:{merchant}";

    /// <summary>Balance key for an account in a currency.</summary>
    public static string BalanceKey(string account, string currency) => $"{account}/{currency}";

    /// <summary>The currency of a balance key.</summary>
    public static string CurrencyOf(string balanceKey) => balanceKey[(balanceKey.LastIndexOf('/') + 1)..];
}
