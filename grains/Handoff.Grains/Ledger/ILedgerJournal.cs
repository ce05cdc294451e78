using Handoff.Contracts;

namespace Handoff.Grains.Ledger;

/// <summary>
/// Where a household's ledger lives: an append-only journal of charges plus the balances they add up
/// to, written together in one transaction per append, whether it carries one charge
/// (<see cref="AppendAsync"/>) or several (<see cref="AppendBatchAsync"/>, the ledger grain's group
/// commit of concurrent charges). The ledger grain keeps only the head in memory.
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

    /// <summary>
    /// In one transaction: stores every entry of <paramref name="entries"/> and posts them, or nothing.
    /// The entries are numbered consecutively and have distinct payment ids (see
    /// <see cref="LedgerJournal.CheckBatch"/>). True when all of them were stored and posted; false when
    /// nothing was, because a payment id or an entry number of the batch was already taken: appending
    /// the entries one by one with <see cref="AppendAsync"/> then tells which, entry by entry.
    /// </summary>
    Task<bool> AppendBatchAsync(string householdId, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellation);

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

    /// <summary>
    /// The balance changes of a batch of entries added up per account and currency, in a fixed order
    /// (account, then currency, ordinal), so that a batch posts each balance once and writers touching
    /// the same balances lock them in the same order. A change that adds up to zero is kept: the
    /// balance exists afterwards, as it would after appending the entries one by one.
    /// </summary>
    public static IReadOnlyList<(string Account, string Currency, decimal Delta)> Postings(IReadOnlyList<LedgerEntry> entries)
    {
        var deltas = new Dictionary<(string Account, string Currency), decimal>();
        foreach (var entry in entries)
        {
            foreach (var (account, delta) in Postings(entry))
            {
                deltas[(account, entry.Currency)] = deltas.GetValueOrDefault((account, entry.Currency)) + delta;
            }
        }

        return
        [
            .. deltas
                .OrderBy(pair => pair.Key.Account, StringComparer.Ordinal)
                .ThenBy(pair => pair.Key.Currency, StringComparer.Ordinal)
                .Select(pair => (pair.Key.Account, pair.Key.Currency, pair.Value)),
        ];
    }

    /// <summary>
    /// Refuses a batch no journal may store: empty, an entry <see cref="Check"/> refuses, entry numbers
    /// that do not follow each other, or one payment id twice.
    /// </summary>
    public static void CheckBatch(string householdId, IReadOnlyList<LedgerEntry> entries)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            throw new ArgumentException("a batch needs at least one entry", nameof(entries));
        }

        var paymentIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            Check(householdId, entries[i]);
            if (entries[i].Sequence != entries[0].Sequence + i)
            {
                throw new ArgumentException($"entry {entries[i].Sequence} does not follow entry {entries[i - 1].Sequence}: a batch is numbered consecutively", nameof(entries));
            }

            if (!paymentIds.Add(entries[i].PaymentId))
            {
                throw new ArgumentException($"payment '{entries[i].PaymentId}' is twice in the batch", nameof(entries));
            }
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
