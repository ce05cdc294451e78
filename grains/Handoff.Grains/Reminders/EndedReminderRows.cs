using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Reminders;

namespace Handoff.Grains.Reminders;

/// <summary>
/// Removes the reminder rows that nothing needs any more (the recovery rows of payments that ended), off the
/// payment's path and many per transaction. An ended payment is already saved as ended, so its row is only
/// clean-up: if it is removed late, or never (the hub stops first, or the table fails), Orleans' reminder service
/// loads it at its next re-read, the payment finds itself ended and unregisters it. Rows wait
/// <see cref="BatchWindow"/> to gather, then go in batches of up to <see cref="MaxBatch"/> through the table's
/// <see cref="IReminderRowBatches"/> when it has one, one by one otherwise. The window runs on the
/// reminder service's clock: this is reminder-table upkeep, not payment time.
/// </summary>
public sealed partial class EndedReminderRows(
    IReminderTable table,
    IServiceProvider services,
    [FromKeyedServices(ReminderTimeProviderNames.Reminders)] TimeProvider time,
    ILogger<EndedReminderRows> logger) : BackgroundService
{
    public static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(100);
    public const int MaxBatch = 500;

    private readonly Channel<ReminderRowKey> _queue = Channel.CreateUnbounded<ReminderRowKey>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IReminderRowBatches? _batches = services.GetService<IReminderRowBatches>() ?? table as IReminderRowBatches;

    /// <summary>Queues the row for removal; returns at once.</summary>
    public void Remove(GrainId grainId, string reminderName, string etag)
    {
        if (!_queue.Writer.TryWrite(new ReminderRowKey(grainId, reminderName, etag)))
        {
            // Stopping: the reminder service will find the row and the payment will unregister it.
            LogNotQueued(logger, grainId, reminderName);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(BatchWindow, time, stoppingToken);
                await RemoveQueuedAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);

        // What was queued last is removed now, while the table is still there (best effort, as always).
        await RemoveQueuedAsync(cancellationToken);
    }

    private async Task RemoveQueuedAsync(CancellationToken cancellation)
    {
        var batch = new List<ReminderRowKey>();
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var row))
            {
                batch.Add(row);
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                var removed = await RemoveAsync(batch, cancellation);
                LogRemoved(logger, removed, batch.Count);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Left in the table: each payment unregisters its own when the reminder service fires it.
                LogNotRemoved(logger, exception, batch.Count);
            }
        }
    }

    private async Task<int> RemoveAsync(List<ReminderRowKey> batch, CancellationToken cancellation)
    {
        if (_batches is not null)
        {
            return await _batches.RemoveRowsAsync(batch, cancellation);
        }

        var removed = 0;
        foreach (var row in batch)
        {
            removed += await table.RemoveRow(row.GrainId, row.ReminderName, row.ETag) ? 1 : 0;
        }

        return removed;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Removed {Removed} of {Queued} reminder rows of ended payments")]
    private static partial void LogRemoved(ILogger logger, int removed, int queued);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} reminder rows of ended payments could not be removed now; the reminder service will find them and each payment will unregister its own")]
    private static partial void LogNotRemoved(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reminder row {ReminderName} of {GrainId} not queued for removal: stopping")]
    private static partial void LogNotQueued(ILogger logger, GrainId grainId, string reminderName);
}
