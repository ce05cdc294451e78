using Handoff.Contracts;

namespace Handoff.Grains.Ledger;

/// <summary>
/// Where a household's ledger lives: an append-only journal of charges plus the balances they add up
/// to, written together in one transaction per charge. The ledger grain keeps only the head in memory.
/// </summary>
public interface ILedgerJournal
{
    /// <summary>The balances, the last entry's number and the number of entries of a household (empty when it has none).</summary>
    Task<LedgerHead> LoadHeadAsync(string householdId, CancellationToken cancellation);

    /// <summary>The entry that charged <paramref name="paymentId"/> in the household, or null.</summary>
    Task<LedgerEntry?> FindAsync(string householdId, string paymentId, CancellationToken cancellation);

    /// <summary>
    /// In one transaction: stores <paramref name="entry"/> and posts it (the debit account loses the
    /// amount, the credit account gains it, in the entry's currency). Either all of it happens or none.
    /// The household's payment ids and entry numbers are unique: a taken one appends nothing and says which.
    /// </summary>
    Task<AppendResult> AppendAsync(string householdId, LedgerEntry entry, CancellationToken cancellation);

    /// <summary>Up to <paramref name="limit"/> entries numbered above <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<LedgerEntry>> ReadAsync(string householdId, long afterSequence, int limit, CancellationToken cancellation);
}

/// <summary>What an append did.</summary>
public enum AppendResult
{
    /// <summary>The entry is stored and posted.</summary>
    Appended,

    /// <summary>Nothing changed: the household already has an entry for this payment id (read it with <see cref="ILedgerJournal.FindAsync"/>).</summary>
    PaymentAlreadyCharged,

    /// <summary>Nothing changed: another writer used this entry number first; reload the head and try again.</summary>
    SequenceTaken,
}

/// <summary>The part of a ledger a grain keeps in memory.</summary>
/// <param name="Balances">Balance per <see cref="LedgerAccounts.BalanceKey"/>.</param>
public sealed record LedgerHead(IReadOnlyDictionary<string, decimal> Balances, long LastSequence, long EntryCount)
{
    public static LedgerHead Empty { get; } = new(new Dictionary<string, decimal>(), 0, 0);
}

/// <summary>Rules every journal shares.</summary>
public static class LedgerJournal
{
    /// <summary>
    /// The balance changes of an entry, one per account and in a fixed (ordinal) order, so that writers
    /// touching the same balances lock them in the same order.
    /// </summary>
    public static IReadOnlyList<(string Account, decimal Delta)> Postings(LedgerEntry entry)
    {
        return string.CompareOrdinal(entry.DebitAccount, entry.CreditAccount) < 0
            ? [(entry.DebitAccount, -entry.Amount), (entry.CreditAccount, entry.Amount)]
            : [(entry.CreditAccount, entry.Amount), (entry.DebitAccount, -entry.Amount)];
    }

    /// <summary>Refuses an entry no journal may store: a journal is the last line, not the only one.</summary>
    public static void Check(string householdId, LedgerEntry entry)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrEmpty(entry.PaymentId, nameof(entry));
        ArgumentException.ThrowIfNullOrEmpty(entry.DebitAccount, nameof(entry));
        ArgumentException.ThrowIfNullOrEmpty(entry.CreditAccount, nameof(entry));
        ArgumentException.ThrowIfNullOrEmpty(entry.Currency, nameof(entry));
        if (entry.Sequence <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(entry), entry.Sequence, "an entry number starts at 1");
        }

        if (entry.Amount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(entry), entry.Amount, "an entry's amount must be positive");
        }

        if (string.Equals(entry.DebitAccount, entry.CreditAccount, StringComparison.Ordinal))
        {
            throw new ArgumentException($"entry {entry.Sequence} debits and credits the same account '{entry.DebitAccount}'", nameof(entry));
        }
    }

    /// <summary>Refuses a page request no journal answers.</summary>
    public static void CheckPage(string householdId, long afterSequence, int limit)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        ArgumentOutOfRangeException.ThrowIfNegative(afterSequence);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
    }
}
