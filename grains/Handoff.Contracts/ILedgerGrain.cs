using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>The built-in ledger of one household (key: household id): double-entry, idempotent per payment.</summary>
[Alias("handoff.ILedgerGrain")]
public interface ILedgerGrain : IGrainWithStringKey
{
    /// <summary>The most entries one <see cref="GetEntriesAsync"/> call returns.</summary>
    public const int MaxPageSize = 1_000;

    /// <summary>
    /// Moves the amount from the payer's account to the merchant's, once per payment id. Only the payment's
    /// authority books a charge: no client or device can, whatever it sends.
    /// </summary>
    /// <remarks>
    /// Interleaves with every call, so that the charges arriving while one is being stored can queue
    /// behind it and be stored together, in one journal transaction (group commit). Only this method is
    /// marked, rather than the whole grain <c>[Reentrant]</c>: it is the one written for interleaving
    /// (it only queues; one flush loop at a time appends and moves the head), while the other methods
    /// keep the default and still never interleave with each other, nor would a method added later.
    /// They may run while a batch is being stored, and stay right: the summary is taken in one turn, so
    /// it shows the head between two journal transactions, never part of one; a charge or a page of
    /// entries is read from the recent charges or from the store, which hold only stored entries.
    /// </remarks>
    [Alias("Charge"), AlwaysInterleave, AuthorityOnly]
    Task<LedgerEntry> ChargeAsync(ChargeRequest charge);

    /// <summary>The charge recorded for a payment, or null.</summary>
    [Alias("GetCharge")]
    Task<LedgerEntry?> GetChargeAsync(string paymentId);

    /// <summary>Balances, the number of entries and the last entry's number: bounded, whatever the journal's length.</summary>
    [Alias("GetSummary")]
    Task<LedgerSummary> GetSummaryAsync();

    /// <summary>
    /// Up to <paramref name="limit"/> (1 to <see cref="MaxPageSize"/>) entries numbered above
    /// <paramref name="afterSequence"/>, in order; the next page starts after the last one returned.
    /// </summary>
    [Alias("GetEntries")]
    Task<IReadOnlyList<LedgerEntry>> GetEntriesAsync(long afterSequence, int limit);
}

/// <summary>
/// One charge to make. <paramref name="Floor"/>, when set, is the lowest balance the payer account may have after it
/// (a payment program's: 0 for a wallet, minus the credit limit for a card): the ledger refuses a charge below it with
/// <c>insufficient_funds</c>, counting the charges it is still storing. <paramref name="Evidence"/> is what authorized
/// it, stored with its entry (null: a charge of an earlier version, which claims none).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.ChargeRequest")]
public sealed record ChargeRequest(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string PayerAccount,
    [property: Id(2)] string MerchantAccount,
    [property: Id(3)] decimal Amount,
    [property: Id(4)] string Currency,
    [property: Id(5)] decimal? Floor = null,
    [property: Id(6)] ChargeEvidence? Evidence = null);

/// <summary>
/// One balanced journal entry: the payer is debited, the merchant credited; <paramref name="Evidence"/> is what
/// authorized it (null: an entry stored before entries kept their evidence).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.LedgerEntry")]
public sealed record LedgerEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string PaymentId,
    [property: Id(2)] string DebitAccount,
    [property: Id(3)] string CreditAccount,
    [property: Id(4)] decimal Amount,
    [property: Id(5)] string Currency,
    [property: Id(6)] DateTimeOffset At,
    [property: Id(7)] ChargeEvidence? Evidence = null);

/// <summary>The ledger at a glance: its balances (keyed by <see cref="LedgerAccounts.BalanceKey"/>) and the size of its journal.</summary>
[GenerateSerializer, Immutable, Alias("handoff.LedgerSummary")]
public sealed record LedgerSummary(
    [property: Id(0)] IReadOnlyDictionary<string, decimal> Balances,
    [property: Id(1)] long EntryCount,
    [property: Id(2)] long LastSequence);

/// <summary>How the ledger names its accounts and balances.</summary>
public static class LedgerAccounts
{
    /// <summary>Account of a payer device.</summary>
    public static string PayerAccount(string deviceId) => $"payer:{deviceId}";

    /// <summary>Account of a payment program (<see cref="PaymentProgram"/>).</summary>
    public static string ProgramAccount(string programId) => $"{ProgramMark}{programId}";

    /// <summary>The program an account belongs to, or null for any other account.</summary>
    public static string? ProgramOf(string account) =>
        account.StartsWith(ProgramMark, StringComparison.Ordinal) ? account[ProgramMark.Length..] : null;

    private const string ProgramMark = "program:";

    /// <summary>Account of a member's monthly budget: refilled from a program, spent from like one (floor 0).</summary>
    public static string BudgetAccount(string memberId) => $"{BudgetMark}{memberId}";

    /// <summary>The member whose budget an account is, or null for any other account.</summary>
    public static string? BudgetOf(string account) =>
        account.StartsWith(BudgetMark, StringComparison.Ordinal) ? account[BudgetMark.Length..] : null;

    private const string BudgetMark = "budget:";

    /// <summary>
    /// True when <paramref name="account"/> is the one an approval by <paramref name="payerDeviceId"/> that names program
    /// <paramref name="programId"/> pays from: the device's own account (no program), the program's, or a member's budget.
    /// </summary>
    public static bool PaysFrom(string account, string payerDeviceId, string programId) =>
        programId.Length == 0
            ? account == PayerAccount(payerDeviceId)
            : account == ProgramAccount(programId) || (BudgetOf(programId) is not null && account == programId);

    /// <summary>The ledger reference of a budget's refill: booked once per member, currency and month (<c>2026-12</c>).</summary>
    public static string RefillReference(string memberId, string currency, string month) => $"{RefillMark}{memberId}/{currency}/{month}";

    /// <summary>The member, currency and month of a refill's reference, or null for any other reference.</summary>
    public static (string MemberId, string Currency, string Month)? RefillOf(string reference) =>
        reference.StartsWith(RefillMark, StringComparison.Ordinal) && reference[RefillMark.Length..].Split('/') is [var member, var currency, var month]
            ? (member, currency, month)
            : null;

    private const string RefillMark = "refill:";

    /// <summary>Where a household's top-ups come from: money put into the household from outside, so it goes below zero.</summary>
    public const string FundingAccount = "funding:household";

    /// <summary>The ledger reference of a top-up: booked once per program and key.</summary>
    public static string TopUpReference(string programId, string key) => $"{TopUpMark}{programId}/{key}";

    /// <summary>True for a top-up's reference (not a payment's nor a refund's).</summary>
    public static bool IsTopUp(string reference) => reference.StartsWith(TopUpMark, StringComparison.Ordinal);

    private const string TopUpMark = "topup:";

    /// <summary>Account of a merchant.</summary>
    public static string MerchantAccount(string merchant) => $"merchant:{merchant}";

    /// <summary>
    /// The ledger reference of a refund: booked like a charge, from the merchant back to the payer, under this
    /// reference instead of the payment id, so that it too is booked once however often it is asked.
    /// </summary>
    public static string RefundReference(string paymentId, string refundKey) => $"{paymentId}{RefundMark}{refundKey}";

    /// <summary>The payment a refund reference belongs to, or null for a charge's reference (a payment id).</summary>
    public static string? RefundedPayment(string reference) =>
        reference.IndexOf(RefundMark, StringComparison.Ordinal) is var at and >= 0 ? reference[..at] : null;

    private const string RefundMark = "/refund/";

    /// <summary>Balance key for an account in a currency.</summary>
    public static string BalanceKey(string account, string currency) => $"{account}/{currency}";

    /// <summary>The currency of a balance key.</summary>
    public static string CurrencyOf(string balanceKey) => balanceKey[(balanceKey.LastIndexOf('/') + 1)..];
}
