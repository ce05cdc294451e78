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
    /// <summary>The most charges one journal transaction stores.</summary>
    internal const int MaxBatch = 64;

    private readonly LedgerBook _book = new();

    /// <summary>Charges waiting for the next batch, in arrival order.</summary>
    private readonly Queue<PendingCharge> _queue = new();

    /// <summary>Charges queued or being stored, by payment id.</summary>
    private readonly Dictionary<string, PendingCharge> _pending = new(StringComparer.Ordinal);

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
        ChargeTerms.Validate(charge);
        if (_book.TryRecent(charge.PaymentId, out var known))
        {
            return ChargeTerms.SameTerms(known, charge);
        }

        if (!_pending.TryGetValue(charge.PaymentId, out var pending))
        {
            _book.RequireFunds(charge);
            pending = new PendingCharge(charge);
            _book.Reserve(charge, +1);
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
        return ChargeTerms.SameTerms(await pending.Stored.Task, charge);
    }

    public async Task<LedgerEntry?> GetChargeAsync(string paymentId)
    {
        RequireHousehold();
        if (string.IsNullOrEmpty(paymentId))
        {
            throw new ValidationException("paymentId", "a payment id is required", ErrorCodes.MissingField);
        }

        return _book.TryRecent(paymentId, out var known)
            ? known
            : await journal.FindAsync(HouseholdId, paymentId, CancellationToken.None);
    }

    public Task<LedgerSummary> GetSummaryAsync()
    {
        RequireHousehold();
        return Task.FromResult(_book.Summary());
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
                entries[i] = ChargeTerms.NewEntry(batch[i].Charge, _book.LastSequence + 1 + i, time.GetUtcNow());
            }

            if (await journal.AppendBatchAsync(HouseholdId, entries, CancellationToken.None))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    _book.Post(entries[i]);
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
        var entry = ChargeTerms.NewEntry(charge, _book.LastSequence + 1, time.GetUtcNow());
        for (var attempt = 1; ; attempt++)
        {
            switch (await journal.AppendAsync(HouseholdId, entry, CancellationToken.None))
            {
                case AppendResult.Appended:
                    _book.Post(entry);
                    return entry;
                case AppendResult.PaymentAlreadyCharged:
                    var existing = await journal.FindAsync(HouseholdId, entry.PaymentId, CancellationToken.None)
                        ?? throw new InvalidOperationException($"ledger '{HouseholdId}' refused payment '{entry.PaymentId}' as already charged, but has no entry for it");
                    if (existing.Sequence > _book.LastSequence)
                    {
                        // Written by another activation (or by an append that failed): this head is behind the store.
                        await LoadHeadAsync(CancellationToken.None);
                    }

                    _book.Remember(existing);
                    return existing;
                case AppendResult.SequenceTaken when attempt == 1:
                    LogSequenceTaken(logger, HouseholdId, entry.Sequence);
                    await LoadHeadAsync(CancellationToken.None);
                    entry = entry with { Sequence = _book.LastSequence + 1 };
                    break;
                default:
                    throw new InvalidOperationException($"ledger '{HouseholdId}': entry number {entry.Sequence} was taken again by another writer; retry the charge");
            }
        }
    }

    private void Answer(PendingCharge pending, LedgerEntry stored)
    {
        _pending.Remove(pending.Charge.PaymentId);
        _book.Reserve(pending.Charge, -1);
        pending.Stored.SetResult(stored);
    }

    private void Fail(PendingCharge pending, Exception exception)
    {
        // Charges of the batch answered before the journal failed keep their answer.
        if (!pending.Stored.Task.IsCompleted)
        {
            _pending.Remove(pending.Charge.PaymentId);
            _book.Reserve(pending.Charge, -1);
            pending.Stored.SetException(exception);
        }
    }

    private async Task LoadHeadAsync(CancellationToken cancellation)
    {
        _book.Load(await journal.LoadHeadAsync(HouseholdId, cancellation));
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
