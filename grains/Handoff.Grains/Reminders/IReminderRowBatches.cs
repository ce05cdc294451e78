namespace Handoff.Grains.Reminders;

/// <summary>One reminder row, as far as removing it goes: only the version written (the etag) is removed.</summary>
public readonly record struct ReminderRowKey(GrainId GrainId, string ReminderName, string ETag);

/// <summary>
/// A reminder table that writes or removes many rows in one transaction, with the same meaning per row as
/// Orleans' <see cref="IReminderTable.UpsertRow"/> and <see cref="IReminderTable.RemoveRow"/>.
/// </summary>
public interface IReminderRowBatches
{
    /// <summary>
    /// Inserts or updates every row (a new row starts at version 1, an update adds 1), all in one transaction;
    /// returns each row's new etag, in the order given. The rows name distinct (grain, reminder) pairs.
    /// </summary>
    Task<IReadOnlyList<string>> UpsertRowsAsync(IReadOnlyList<ReminderEntry> rows, CancellationToken cancellation);

    /// <summary>Removes each row whose version is still the given etag; returns how many were removed.</summary>
    Task<int> RemoveRowsAsync(IReadOnlyList<ReminderRowKey> rows, CancellationToken cancellation);
}
