using System.Collections.Concurrent;
using Handoff.Contracts;

namespace Handoff.Grains.Ledger;

/// <summary>
/// The journal of a hub whose storage is memory (demo, tests, load runs): one per hub process, lost
/// with it, like the rest of that hub's state. Each household's book is guarded by its own lock, so an
/// append, of one entry or of a batch, is as atomic here as a transaction is in a database.
/// </summary>
public sealed class MemoryLedgerJournal : ILedgerJournal
{
    private readonly ConcurrentDictionary<string, Book> _books = new(StringComparer.Ordinal);

    public Task<LedgerHead> LoadHeadAsync(string householdId, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        if (!_books.TryGetValue(householdId, out var book))
        {
            return Task.FromResult(LedgerHead.Empty);
        }

        lock (book.Gate)
        {
            return Task.FromResult(new LedgerHead(
                new Dictionary<string, decimal>(book.Balances, StringComparer.Ordinal),
                book.Entries.Count == 0 ? 0 : book.Entries[^1].Sequence,
                book.Entries.Count));
        }
    }

    public Task<LedgerEntry?> FindAsync(string householdId, string paymentId, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        if (!_books.TryGetValue(householdId, out var book))
        {
            return Task.FromResult<LedgerEntry?>(null);
        }

        lock (book.Gate)
        {
            return Task.FromResult(book.ByPayment.GetValueOrDefault(paymentId));
        }
    }

    public Task<AppendResult> AppendAsync(string householdId, LedgerEntry entry, CancellationToken cancellation)
    {
        LedgerJournal.Check(householdId, entry);
        var book = _books.GetOrAdd(householdId, _ => new Book());
        lock (book.Gate)
        {
            if (book.ByPayment.ContainsKey(entry.PaymentId))
            {
                return Task.FromResult(AppendResult.PaymentAlreadyCharged);
            }

            var at = book.IndexAfter(entry.Sequence - 1);
            if (at < book.Entries.Count && book.Entries[at].Sequence == entry.Sequence)
            {
                return Task.FromResult(AppendResult.SequenceTaken);
            }

            book.Store(at, entry);
            return Task.FromResult(AppendResult.Appended);
        }
    }

    public async Task<bool> AppendBatchAsync(string householdId, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellation)
    {
        LedgerJournal.CheckBatch(householdId, entries);
        if (entries.Count == 1)
        {
            return await AppendAsync(householdId, entries[0], cancellation) == AppendResult.Appended;
        }

        var book = _books.GetOrAdd(householdId, _ => new Book());
        lock (book.Gate)
        {
            // Everything is checked before anything is stored: a refused batch leaves the book as it was.
            var at = book.IndexAfter(entries[0].Sequence - 1);
            if ((at < book.Entries.Count && book.Entries[at].Sequence <= entries[^1].Sequence)
                || entries.Any(entry => book.ByPayment.ContainsKey(entry.PaymentId)))
            {
                return false;
            }

            foreach (var entry in entries)
            {
                book.Store(at++, entry);
            }

            return true;
        }
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadAsync(string householdId, long afterSequence, int limit, CancellationToken cancellation)
    {
        LedgerJournal.CheckPage(householdId, afterSequence, limit);
        if (!_books.TryGetValue(householdId, out var book))
        {
            return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        }

        lock (book.Gate)
        {
            var from = book.IndexAfter(afterSequence);
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(book.Entries.GetRange(from, Math.Min(limit, book.Entries.Count - from)));
        }
    }

    private sealed class Book
    {
        public Lock Gate { get; } = new();

        /// <summary>In entry-number order (appends normally land at the end).</summary>
        public List<LedgerEntry> Entries { get; } = [];

        public Dictionary<string, LedgerEntry> ByPayment { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, decimal> Balances { get; } = new(StringComparer.Ordinal);

        /// <summary>Stores <paramref name="entry"/> at <paramref name="index"/> of <see cref="Entries"/> and posts it; the caller holds <see cref="Gate"/>.</summary>
        public void Store(int index, LedgerEntry entry)
        {
            Entries.Insert(index, entry);
            ByPayment.Add(entry.PaymentId, entry);
            foreach (var (account, delta) in LedgerJournal.Postings(entry))
            {
                var key = LedgerAccounts.BalanceKey(account, entry.Currency);
                Balances[key] = Balances.GetValueOrDefault(key) + delta;
            }
        }

        /// <summary>The index of the first entry numbered above <paramref name="sequence"/>.</summary>
        public int IndexAfter(long sequence)
        {
            if (Entries.Count == 0 || Entries[^1].Sequence <= sequence)
            {
                return Entries.Count;
            }

            int low = 0, high = Entries.Count;
            while (low < high)
            {
                var middle = low + ((high - low) / 2);
                if (Entries[middle].Sequence <= sequence)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }
    }
}
