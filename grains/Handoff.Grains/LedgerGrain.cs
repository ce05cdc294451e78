using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Microsoft.Extensions.Logging;

namespace Handoff.Grains;

/// <summary>
/// Double-entry ledger of one household. The journal and the balances live in the hub's
/// <see cref="ILedgerJournal"/>, one append per charge; the grain holds only the head (balances, last
/// entry number) and a few recent charges. A charge is keyed by payment id: asking twice returns the
/// first entry and moves no money, so a retried or replayed charge can never pay twice.
/// </summary>
public sealed partial class LedgerGrain(
    ILedgerJournal journal,
    TimeProvider time,
    FaultPoints faults,
    ILogger<LedgerGrain> logger) : Grain, ILedgerGrain
{
    /// <summary>How many recent charges are answered from memory (retries, status reads) instead of the store.</summary>
    internal const int RecentCharges = 256;

    private readonly Dictionary<string, decimal> _balances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LedgerEntry> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();
    private long _lastSequence;
    private long _entryCount;

    private string HouseholdId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken) => LoadHeadAsync(cancellationToken);

    public async Task<LedgerEntry> ChargeAsync(ChargeRequest charge)
    {
        Validate(charge);
        if (_recent.TryGetValue(charge.PaymentId, out var known))
        {
            return SameTerms(known, charge);
        }

        try
        {
            return await AppendAsync(charge);
        }
        catch (Exception exception) when (exception is not HandoffException)
        {
            // The charge may or may not be in the store: start over from the store, never from memory.
            LogStoreFailed(logger, exception, HouseholdId, charge.PaymentId);
            DeactivateOnIdle();
            throw;
        }
    }

    public async Task<LedgerEntry?> GetChargeAsync(string paymentId)
    {
        if (string.IsNullOrEmpty(paymentId))
        {
            throw new ValidationException("paymentId", "a payment id is required", ErrorCodes.MissingField);
        }

        return _recent.TryGetValue(paymentId, out var known)
            ? known
            : await journal.FindAsync(HouseholdId, paymentId, CancellationToken.None);
    }

    public Task<LedgerSummary> GetSummaryAsync() =>
        Task.FromResult(new LedgerSummary(new Dictionary<string, decimal>(_balances, StringComparer.Ordinal), _entryCount, _lastSequence));

    public Task<IReadOnlyList<LedgerEntry>> GetEntriesAsync(long afterSequence, int limit)
    {
        if (afterSequence < 0)
        {
            throw new ValidationException("afterSequence", "must be 0 (from the first entry) or an entry number");
        }

        if (limit is < 1 or > ILedgerGrain.MaxPageSize)
        {
            throw new ValidationException("limit", $"must be between 1 and {ILedgerGrain.MaxPageSize}");
        }

        return journal.ReadAsync(HouseholdId, afterSequence, limit, CancellationToken.None);
    }

    private async Task<LedgerEntry> AppendAsync(ChargeRequest charge)
    {
        var entry = NewEntry(charge);
        await faults.ReachedAsync(FaultPoints.ChargeInFlight);
        for (var attempt = 1; ; attempt++)
        {
            // The normal path is this one transaction: the store's unique payment id is the idempotency check.
            switch (await journal.AppendAsync(HouseholdId, entry, CancellationToken.None))
            {
                case AppendResult.Appended:
                    Post(entry);
                    Remember(entry);
                    return entry;
                case AppendResult.PaymentAlreadyCharged:
                    var existing = await journal.FindAsync(HouseholdId, entry.PaymentId, CancellationToken.None)
                        ?? throw new InvalidOperationException($"ledger '{HouseholdId}' refused payment '{entry.PaymentId}' as already charged, but has no entry for it");
                    if (existing.Sequence > _lastSequence)
                    {
                        // Written by another activation: this head is behind the store.
                        await LoadHeadAsync(CancellationToken.None);
                    }

                    Remember(existing);
                    return SameTerms(existing, charge);
                case AppendResult.SequenceTaken when attempt == 1:
                    LogSequenceTaken(logger, HouseholdId, entry.Sequence);
                    await LoadHeadAsync(CancellationToken.None);
                    entry = entry with { Sequence = _lastSequence + 1 };
                    break;
                default:
                    throw new InvalidOperationException($"ledger '{HouseholdId}': entry number {entry.Sequence} was taken again by another writer; retry the charge");
            }
        }
    }

    private LedgerEntry NewEntry(ChargeRequest charge)
    {
        // The stores keep microseconds: an entry read back must equal the one returned now.
        var now = time.GetUtcNow();
        return new LedgerEntry(
            _lastSequence + 1,
            charge.PaymentId,
            charge.PayerAccount,
            charge.MerchantAccount,
            charge.Amount,
            charge.Currency,
            now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond)));
    }

    private static LedgerEntry SameTerms(LedgerEntry existing, ChargeRequest charge) =>
        existing.Amount == charge.Amount
        && existing.Currency == charge.Currency
        && existing.DebitAccount == charge.PayerAccount
        && existing.CreditAccount == charge.MerchantAccount
            ? existing
            : throw new ConflictException($"payment '{charge.PaymentId}' was already charged with other terms");

    private static void Validate(ChargeRequest charge)
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

    private async Task LoadHeadAsync(CancellationToken cancellation)
    {
        var head = await journal.LoadHeadAsync(HouseholdId, cancellation);
        _balances.Clear();
        foreach (var (key, balance) in head.Balances)
        {
            _balances[key] = balance;
        }

        _lastSequence = head.LastSequence;
        _entryCount = head.EntryCount;
    }

    private void Post(LedgerEntry entry)
    {
        foreach (var (account, delta) in LedgerJournal.Postings(entry))
        {
            var key = LedgerAccounts.BalanceKey(account, entry.Currency);
            _balances[key] = _balances.GetValueOrDefault(key) + delta;
        }

        _lastSequence = Math.Max(_lastSequence, entry.Sequence);
        _entryCount++;
    }

    private void Remember(LedgerEntry entry)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger {Household}: the journal failed while charging payment {PaymentId}; deactivating to reload from the store")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, string household, string paymentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger {Household}: entry number {Sequence} was taken by another writer; reloading the head and retrying once")]
    private static partial void LogSequenceTaken(ILogger logger, string household, long sequence);
}
