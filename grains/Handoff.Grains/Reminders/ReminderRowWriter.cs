using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Grains.Reminders;

/// <summary>
/// Writes reminder rows for many grains at once: group commit. A row asked for while another write is in flight
/// waits for it, then goes with every other row that queued meanwhile, in one transaction. An idle hub writes
/// each row at once (a batch of one); a busy one writes fewer, larger transactions the busier it is, and no row
/// ever waits for a timer. Each caller gets its row's etag only after its transaction committed, so "the row
/// exists before the payment is saved" holds exactly as with a single write. Without a table that writes
/// batches (<see cref="IReminderRowBatches"/>), rows go one by one through <see cref="IReminderTable.UpsertRow"/>.
/// </summary>
public sealed class ReminderRowWriter(IReminderTable table, IServiceProvider services)
{
    public const int MaxBatch = 256;

    private readonly IReminderRowBatches? _batches = services.GetService<IReminderRowBatches>() ?? table as IReminderRowBatches;
    private readonly Lock _lock = new();
    private List<Pending> _queued = [];
    private bool _writing;

    /// <summary>Inserts or updates the row; returns its new etag once it is committed.</summary>
    public async Task<string> UpsertAsync(ReminderEntry row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (_batches is null)
        {
            return await table.UpsertRow(row) ?? throw new InvalidOperationException($"the reminder table returned no etag for reminder '{row.ReminderName}' of {row.GrainId}");
        }

        var pending = new Pending(row, new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_lock)
        {
            _queued.Add(pending);
            start = !_writing;
            _writing = true;
        }

        if (start)
        {
            // Off the caller's scheduler (a grain's): the loop serves every grain of the silo.
            _ = Task.Run(WriteQueuedAsync);
        }

        return await pending.Done.Task;
    }

    private async Task WriteQueuedAsync()
    {
        // Let writers that are already on their way queue first (a store whose calls finish synchronously,
        // like SQLite's, would otherwise always see a batch of one).
        await Task.Yield();
        while (NextBatch() is { } batch)
        {
            try
            {
                var etags = await _batches!.UpsertRowsAsync([.. batch.Select(pending => pending.Row)], CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(etags[i]);
                }
            }
            catch (Exception exception)
            {
                // Nothing of the batch is known to be written: every caller gets the failure, as from its own write.
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(exception);
                }
            }

            await Task.Yield();
        }
    }

    /// <summary>Takes up to <see cref="MaxBatch"/> queued rows for distinct (grain, reminder) pairs, or ends the loop.</summary>
    private List<Pending>? NextBatch()
    {
        lock (_lock)
        {
            if (_queued.Count == 0)
            {
                _writing = false;
                return null;
            }

            var batch = new List<Pending>(Math.Min(_queued.Count, MaxBatch));
            var keys = new HashSet<(GrainId, string)>();
            var rest = new List<Pending>();
            foreach (var pending in _queued)
            {
                // A second write of the same row waits for the next transaction, so the two stay in order.
                if (batch.Count < MaxBatch && rest.Count == 0 && keys.Add((pending.Row.GrainId, pending.Row.ReminderName)))
                {
                    batch.Add(pending);
                }
                else
                {
                    rest.Add(pending);
                }
            }

            _queued = rest;
            return batch;
        }
    }

    private sealed record Pending(ReminderEntry Row, TaskCompletionSource<string> Done);
}
