using Handoff.Contracts;

namespace Handoff.Grains.Ledger;

/// <summary>
/// What a ledger grain keeps of its household's ledger in memory: the balances, the last entry number, the money
/// promised to charges not yet stored, and the most recent charges (answered without asking the store).
/// </summary>
internal sealed class LedgerBook
{
    /// <summary>How many recent charges are answered from memory (retries, status reads) instead of the store.</summary>
    internal const int RecentCharges = 256;

    private readonly Dictionary<string, decimal> _balances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LedgerEntry> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();

    /// <summary>Debits of queued or storing charges that have a floor, per balance key: money already promised.</summary>
    private readonly Dictionary<string, decimal> _reserved = new(StringComparer.Ordinal);

    public long LastSequence { get; private set; }

    public long EntryCount { get; private set; }

    public LedgerSummary Summary() => new(new Dictionary<string, decimal>(_balances, StringComparer.Ordinal), EntryCount, LastSequence);

    public bool TryRecent(string paymentId, out LedgerEntry entry) => _recent.TryGetValue(paymentId, out entry!);

    /// <summary>Starts over from the head the store holds (the recent charges and the reservations stay true).</summary>
    public void Load(LedgerHead head)
    {
        _balances.Clear();
        foreach (var (key, balance) in head.Balances)
        {
            _balances[key] = balance;
        }

        LastSequence = head.LastSequence;
        EntryCount = head.EntryCount;
    }

    /// <summary>Adds a stored entry to the balances and remembers it.</summary>
    public void Post(LedgerEntry entry)
    {
        foreach (var (account, delta) in LedgerJournal.Postings(entry))
        {
            var key = LedgerAccounts.BalanceKey(account, entry.Currency);
            _balances[key] = _balances.GetValueOrDefault(key) + delta;
        }

        LastSequence = Math.Max(LastSequence, entry.Sequence);
        EntryCount++;
        Remember(entry);
    }

    public void Remember(LedgerEntry entry)
    {
        if (!_recent.TryAdd(entry.PaymentId, entry))
        {
            return;
        }

        _recentOrder.Enqueue(entry.PaymentId);
        if (_recentOrder.Count > RecentCharges)
        {
            _recent.Remove(_recentOrder.Dequeue());
        }
    }

    /// <summary>
    /// Refuses a charge with a floor that would take its payer account below it, counting the charges of that account
    /// queued or being stored: those are answered as stored, so two charges racing for the last money never both pass.
    /// </summary>
    public void RequireFunds(ChargeRequest charge)
    {
        if (charge.Floor is not { } floor)
        {
            return;
        }

        var key = LedgerAccounts.BalanceKey(charge.PayerAccount, charge.Currency);
        var left = _balances.GetValueOrDefault(key) - _reserved.GetValueOrDefault(key) - floor;
        if (charge.Amount > left)
        {
            throw new InsufficientFundsException(LedgerAccounts.ProgramOf(charge.PayerAccount) ?? charge.PayerAccount, Math.Max(left, 0), charge.Currency);
        }
    }

    /// <summary>Counts (+1) or stops counting (-1) a queued charge's debit against its payer account.</summary>
    public void Reserve(ChargeRequest charge, int sign)
    {
        if (charge.Floor is null)
        {
            return;
        }

        var key = LedgerAccounts.BalanceKey(charge.PayerAccount, charge.Currency);
        var reserved = _reserved.GetValueOrDefault(key) + (sign * charge.Amount);
        if (reserved == 0)
        {
            _reserved.Remove(key);
        }
        else
        {
            _reserved[key] = reserved;
        }
    }
}
