using Handoff.Contracts;
using Handoff.Contracts.Security;
using Orleans.Concurrency;

namespace Handoff.Grains.Reminders;

/// <summary>The hub's reminder table, reachable from silos that cannot open the hub's store themselves.</summary>
[Alias("handoff.IReminderStoreGrain"), SilosOnly]
public interface IReminderStoreGrain : IGrainWithIntegerKey
{
    [Alias("ReadRowsOfGrain")]
    Task<ReminderTableData> ReadRowsAsync(GrainId grainId);

    [Alias("ReadRowsInRange")]
    Task<ReminderTableData> ReadRowsAsync(uint begin, uint end);

    [Alias("ReadRow")]
    Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName);

    [Alias("UpsertRow")]
    Task<string?> UpsertRowAsync(ReminderEntry entry);

    [Alias("RemoveRow")]
    Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag);
}

/// <summary>
/// Serves the hub's own <see cref="IReminderTable"/> to payer silos: Orleans spreads reminders over every
/// silo of the ring, and a phone has no access to the hub's SQLite file. Hub-only (payer silos exclude it).
/// </summary>
[StatelessWorker]
public sealed class ReminderStoreGrain(IReminderTable table) : Grain, IReminderStoreGrain
{
    public Task<ReminderTableData> ReadRowsAsync(GrainId grainId) => table.ReadRows(grainId);

    public Task<ReminderTableData> ReadRowsAsync(uint begin, uint end) => table.ReadRows(begin, end);

    public Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName) => table.ReadRow(grainId, reminderName);

    public Task<string?> UpsertRowAsync(ReminderEntry entry) => table.UpsertRow(entry);

    public Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag) => table.RemoveRow(grainId, reminderName, eTag);
}

/// <summary>
/// A payer silo's reminder table: every call goes to the hub's <see cref="ReminderStoreGrain"/>. While the
/// silo is joining it may not yet know the hub's grain types, and until its first device is paired it has no
/// session for the hub to accept: calls retry for a bounded time, quietly.
/// </summary>
public sealed class HubReminderTable(IGrainFactory grains) : IReminderTable
{
    private static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private IReminderStoreGrain Store => grains.GetGrain<IReminderStoreGrain>(0);

    public Task<ReminderTableData> ReadRows(GrainId grainId) => WithRetry(store => store.ReadRowsAsync(grainId));

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => WithRetry(store => store.ReadRowsAsync(begin, end));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => WithRetry(store => store.ReadRowAsync(grainId, reminderName));

    public Task<string?> UpsertRow(ReminderEntry entry) => WithRetry(store => store.UpsertRowAsync(entry));

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => WithRetry(store => store.RemoveRowAsync(grainId, reminderName, eTag));

    public Task TestOnlyClearTable() => throw new NotSupportedException("the hub's reminders are cleared on the hub");

    private async Task<T> WithRetry<T>(Func<IReminderStoreGrain, Task<T>> call)
    {
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call(Store);
            }
            catch (Exception exception) when (exception is ArgumentException or SiloUnavailableException or OrleansMessageRejectionException or ForbiddenException
                && elapsed.Elapsed < RetryFor)
            {
                await Task.Delay(RetryDelay);
            }
        }
    }
}
