using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>What a payment program is: a card (may go below zero, down to its credit limit) or a wallet (spends what was put in).</summary>
[GenerateSerializer, Alias("handoff.ProgramKind")]
public enum ProgramKind
{
    Card = 0,
    Wallet = 1,
}

/// <summary>
/// One way a payer device pays: a card or a wallet in one currency, backed by its own ledger account
/// (<see cref="LedgerAccounts.ProgramAccount"/>). <paramref name="Id"/> is unique in the household; the account may
/// go down to minus <paramref name="Limit"/> (a card's credit limit; 0 for a wallet, which spends only what it holds).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentProgram")]
public sealed record PaymentProgram(
    [property: Id(0)] string Id,
    [property: Id(1)] string DeviceId,
    [property: Id(2)] string Name,
    [property: Id(3)] ProgramKind Kind,
    [property: Id(4)] string Currency,
    [property: Id(5)] decimal Limit)
{
    /// <summary>The lowest balance a charge may leave in the program's account.</summary>
    public decimal Floor => -Limit;
}

/// <summary>A program as its device sees it: its balance in the ledger, what is left to spend, and whether it paid last.</summary>
[GenerateSerializer, Immutable, Alias("handoff.ProgramStatus")]
public sealed record ProgramStatus(
    [property: Id(0)] PaymentProgram Program,
    [property: Id(1)] decimal Balance,
    [property: Id(2)] bool LastUsed)
{
    /// <summary>What a charge may still take: the balance plus the credit limit.</summary>
    public decimal Left => Balance + Program.Limit;
}

/// <summary>Where an approved payment's money comes from: the chosen program, its account and how low a charge may take it.</summary>
[GenerateSerializer, Immutable, Alias("handoff.ProgramFunding")]
public sealed record ProgramFunding(
    [property: Id(0)] string ProgramId,
    [property: Id(1)] string Account,
    [property: Id(2)] decimal Floor);

/// <summary>
/// The payment programs of one household (key: household id): their definitions and which one each device used last.
/// Balances are the ledger's; money goes in by a top-up (from the household's funding account) or a refund.
/// </summary>
[Alias("handoff.IPaymentProgramsGrain")]
public interface IPaymentProgramsGrain : IGrainWithStringKey
{
    /// <summary>The household's programs (only <paramref name="deviceId"/>'s when given), with balances, by device then id.</summary>
    [Alias("List")]
    Task<IReadOnlyList<ProgramStatus>> ListAsync(string? deviceId);

    /// <summary>Adds a program to a payer device of the household (admin); an id already used is a <c>conflict</c>.</summary>
    [Alias("Add"), NoSession]
    Task<ProgramStatus> AddAsync(string adminToken, PaymentProgram program);

    /// <summary>
    /// Puts money into a program from the household's funding account (admin), once per <paramref name="key"/>: the
    /// same key again returns the program as it is and moves nothing; the same key with another amount is a <c>conflict</c>.
    /// </summary>
    [Alias("TopUp"), NoSession]
    Task<ProgramStatus> TopUpAsync(string adminToken, string programId, decimal amount, string key);

    /// <summary>Removes a program (admin): no payment can choose it any more; its ledger account and history stay.</summary>
    [Alias("Remove"), NoSession]
    Task RemoveAsync(string adminToken, string programId);

    /// <summary>
    /// The payment's authority checks a payer's choice: the program is the device's, in the payment's currency, and has
    /// at least <paramref name="amount"/> left (else <c>insufficient_funds</c>); it becomes the device's last used.
    /// The ledger checks the floor again when it books the charge, so two payments racing for the last money never both pay.
    /// No program (null) is only for a device that has none: it pays from its own device account, without a floor.
    /// </summary>
    [Alias("Choose"), AuthorityOnly]
    Task<ProgramFunding?> ChooseAsync(string deviceId, string? programId, decimal amount, string currency);
}
