using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Microsoft.Extensions.Logging;

namespace Handoff.Grains;

/// <summary>
/// Double-entry ledger of one household. The journal and the balances live in the hub's
/// <see cref="ILedgerJournal"/>; the grain holds only the head (balances, last entry number) and a few
/// recent charges. A charge is keyed by payment id: asking twice returns the first entry and moves no
/// money, so a retried or replayed charge can never pay twice.
/// </summary>
/// <remarks>
/// <para>
/// Group commit: charges of the household that arrive together are stored in one journal transaction.
/// <see cref="ILedgerGrain.ChargeAsync"/> interleaves (<c>[AlwaysInterleave]</c>): a charge only joins
/// a queue and waits. The charge that finds no flush running starts the one flush loop of the
/// activation, which takes up to <see cref="MaxBatch"/> queued charges at a time, numbers them on from
/// the head and appends them with <see cref="ILedgerJournal.AppendBatchAsync"/>; charges arriving
/// meanwhile queue for the next batch. A payment asked again while it is queued or being stored waits
/// for the same entry. When the journal refuses a batch (a payment id or entry number of it was
/// taken), nothing of it was stored and its charges are appended one by one, as a single charge is.
/// </para>
/// <para>
/// The grain is still single-threaded: the queue, the head and the recent charges change only between
/// awaits, and only the flush loop appends or reloads the head, one batch after the other, so a reload
/// never overlaps a batch being numbered or stored. When the journal fails, every charge of that
/// batch fails with its error (it may or may not be stored), the activation deactivates to start over
/// from the store, and the charges still queued are numbered from a head reloaded from the store.
/// </para>
/// </remarks>
public sealed partial class LedgerGrain(
    ILedgerJournal journal,
    TimeProvider time,
    FaultPoints faults,
    ILogger<LedgerGrain> logger) : Grain, ILedgerGrain
{
    /// <summary>How many recent charges are answered from memory (retries, status reads) instead of the store.</summary>
    internal const int RecentCharges = 256;

    /// <summary>The most charges one journal transaction stores.</summary>
    internal const int MaxBatch = 64;

    private readonly Dictionary<string, decimal> _balances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LedgerEntry> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();

    /// <summary>Debits of queued or storing charges that have a floor, per balance key: money already promised.</summary>
    private readonly Dictionary<string, decimal> _reserved = new(StringComparer.Ordinal);

    /// <summary>Charges waiting for the next batch, in arrival order.</summary>
    private readonly Queue<PendingCharge> _queue = new();

    /// <summary>Charges queued or being stored, by payment id.</summary>
    private readonly Dictionary<string, PendingCharge> _pending = new(StringComparer.Ordinal);

    private long _lastSequence;
    private long _entryCount;
    private bool _flushing;
    private bool _headInDoubt;

    private string HouseholdId => this.GetPrimaryKeyString();

    // A caller of another household is told nothing of this one, not even that it exists.
    private void RequireHousehold()
    {
        if (!CallerContext.MayAccess(HouseholdId))
        {
            throw new NotFoundException($"no ledger of household '{HouseholdId}' for this caller");
        }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => LoadHeadAsync(cancellationToken);

    public async Task<LedgerEntry> ChargeAsync(ChargeRequest charge)
    {
        Validate(charge);
        if (_recent.TryGetValue(charge.PaymentId, out var known))
        {
            return SameTerms(known, charge);
        }

        if (!_pending.TryGetValue(charge.PaymentId, out var pending))
        {
            RequireFunds(charge);
            pending = new PendingCharge(charge);
            Reserve(charge, +1);
            _pending.Add(charge.PaymentId, pending);
            _queue.Enqueue(pending);
            if (!_flushing)
            {
                // Not awaited: this caller is answered when its own batch is stored, not when the queue runs dry.
                _flushing = true;
                _ = FlushAsync();
            }
        }

        // The entry that holds the payment id, maybe stored with another caller's terms: each caller checks its own.
        return SameTerms(await pending.Stored.Task, charge);
    }

    public async Task<LedgerEntry?> GetChargeAsync(string paymentId)
    {
        RequireHousehold();
        if (string.IsNullOrEmpty(paymentId))
        {
            throw new ValidationException("paymentId", "a payment id is required", ErrorCodes.MissingField);
        }

        return _recent.TryGetValue(paymentId, out var known)
            ? known
            : await journal.FindAsync(HouseholdId, paymentId, CancellationToken.None);
    }

    public Task<LedgerSummary> GetSummaryAsync()
    {
        RequireHousehold();
        return Task.FromResult(new LedgerSummary(new Dictionary<string, decimal>(_balances, StringComparer.Ordinal), _entryCount, _lastSequence));
    }

    public Task<IReadOnlyList<LedgerEntry>> GetEntriesAsync(long afterSequence, int limit)
    {
        RequireHousehold();
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

    /// <summary>
    /// The flush loop: stores the queue batch by batch until it is empty. It never throws: a failed
    /// batch fails its charges' callers.
    /// </summary>
    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                // Calls already waiting at the activation queue their charges first. Without this, a
                // journal that completes synchronously (the memory one) would only ever see batches of one.
                await Task.Yield();
                if (_queue.Count == 0)
                {
                    return;
                }

                var batch = new List<PendingCharge>(Math.Min(_queue.Count, MaxBatch));
                while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    await StoreAsync(batch);
                }
                catch (Exception exception)
                {
                    // The charges may or may not be in the store: start over from the store, never from memory.
                    foreach (var pending in batch)
                    {
                        Fail(pending, exception);
                    }

                    _headInDoubt = true;
                    DeactivateOnIdle();
                    LogStoreFailed(logger, exception, HouseholdId, batch.Count, string.Join(", ", batch.Select(pending => pending.Charge.PaymentId)));
                }
            }
        }
        finally
        {
            _flushing = false;
        }
    }

    /// <summary>Stores one batch of charges and answers each of them; throws when the journal fails.</summary>
    private async Task StoreAsync(IReadOnlyList<PendingCharge> batch)
    {
        if (_headInDoubt)
        {
            // An append that failed may have been stored after all.
            await LoadHeadAsync(CancellationToken.None);
            _headInDoubt = false;
        }

        await faults.ReachedAsync(FaultPoints.ChargeInFlight);
        if (batch.Count > 1)
        {
            // The normal path is this one transaction: the store's unique payment ids are the idempotency check.
            var entries = new LedgerEntry[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                entries[i] = NewEntry(batch[i].Charge, _lastSequence + 1 + i);
            }

            if (await journal.AppendBatchAsync(HouseholdId, entries, CancellationToken.None))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    Post(entries[i]);
                    Remember(entries[i]);
                    Answer(batch[i], entries[i]);
                }

                return;
            }

            LogBatchRefused(logger, HouseholdId, batch.Count, entries[0].Sequence);
        }

        // A single charge, or a refused batch: nothing of it is stored, and one append per charge tells which is which.
        foreach (var pending in batch)
        {
            Answer(pending, await AppendAsync(pending.Charge));
        }
    }

    /// <summary>Appends one charge; returns the entry holding its payment id (this charge's, or the one stored before).</summary>
    private async Task<LedgerEntry> AppendAsync(ChargeRequest charge)
    {
        var entry = NewEntry(charge, _lastSequence + 1);
        for (var attempt = 1; ; attempt++)
        {
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
                        // Written by another activation (or by an append that failed): this head is behind the store.
                        await LoadHeadAsync(CancellationToken.None);
                    }

                    Remember(existing);
                    return existing;
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

    private void Answer(PendingCharge pending, LedgerEntry stored)
    {
        _pending.Remove(pending.Charge.PaymentId);
        Reserve(pending.Charge, -1);
        pending.Stored.SetResult(stored);
    }

    private void Fail(PendingCharge pending, Exception exception)
    {
        // Charges of the batch answered before the journal failed keep their answer.
        if (!pending.Stored.Task.IsCompleted)
        {
            _pending.Remove(pending.Charge.PaymentId);
            Reserve(pending.Charge, -1);
            pending.Stored.SetException(exception);
        }
    }

    /// <summary>
    /// Refuses a charge with a floor that would take its payer account below it, counting the charges of that account
    /// queued or being stored: those are answered as stored, so two charges racing for the last money never both pass.
    /// </summary>
    private void RequireFunds(ChargeRequest charge)
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
    private void Reserve(ChargeRequest charge, int sign)
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

    private LedgerEntry NewEntry(ChargeRequest charge, long sequence)
    {
        // The stores keep microseconds: an entry read back must equal the one returned now.
        var now = time.GetUtcNow();
        return new LedgerEntry(
            sequence,
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger {Household}: the journal failed while charging {Count} payment(s) ({PaymentIds}); deactivating to reload from the store")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, string household, int count, string paymentIds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger {Household}: the journal refused a batch of {Count} charges from entry number {Sequence} (a payment id or entry number was taken); charging them one by one")]
    private static partial void LogBatchRefused(ILogger logger, string household, int count, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger {Household}: entry number {Sequence} was taken by another writer; reloading the head and retrying once")]
    private static partial void LogSequenceTaken(ILogger logger, string household, long sequence);

    /// <summary>A charge waiting to be stored; every call asking for its payment id meanwhile waits on <see cref="Stored"/>.</summary>
    private sealed class PendingCharge(ChargeRequest charge)
    {
        public ChargeRequest Charge { get; } = charge;

        /// <summary>The entry that holds the payment id once stored: this charge's, or one stored before with its own terms.</summary>
        public TaskCompletionSource<LedgerEntry> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
