using Handoff.Contracts;

namespace Handoff.Grains;

/// <summary>Durable roster of one household.</summary>
[GenerateSerializer, Alias("handoff.HouseholdRecord")]
public sealed class HouseholdRecord
{
    [Id(0)]
    public List<string> Devices { get; set; } = [];

    [Id(1)]
    public List<string> RecentPayments { get; set; } = [];
}

/// <summary>A household's device roster and its most recent payments.</summary>
public sealed class HouseholdGrain(
    [PersistentState("household", HandoffOptions.StorageName)] IPersistentState<HouseholdRecord> record) : Grain, IHouseholdGrain
{
    private const int RecentLimit = 100;

    public async Task AddDeviceAsync(string deviceId)
    {
        if (!record.State.Devices.Contains(deviceId))
        {
            record.State.Devices.Add(deviceId);
            await record.WriteStateAsync();
        }
    }

    public async Task<IReadOnlyList<DeviceStatus>> ListDevicesAsync()
    {
        if (!CallerContext.MayAccess(this.GetPrimaryKeyString()))
        {
            return [];
        }

        var statuses = await Task.WhenAll(
            record.State.Devices.Select(id => GrainFactory.GetGrain<IDeviceGrain>(id).GetStatusAsync()));
        return [.. statuses.OfType<DeviceStatus>().OrderBy(device => device.Role).ThenBy(device => device.DeviceId, StringComparer.Ordinal)];
    }

    public async Task NotePaymentAsync(string paymentId)
    {
        if (record.State.RecentPayments.Contains(paymentId))
        {
            return;
        }

        record.State.RecentPayments.Insert(0, paymentId);
        if (record.State.RecentPayments.Count > RecentLimit)
        {
            record.State.RecentPayments.RemoveRange(RecentLimit, record.State.RecentPayments.Count - RecentLimit);
        }

        await record.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> RecentPaymentsAsync(int count) =>
        Task.FromResult<IReadOnlyList<string>>(CallerContext.MayAccess(this.GetPrimaryKeyString())
            ? [.. record.State.RecentPayments.Take(Math.Clamp(count, 0, RecentLimit))]
            : []);
}
