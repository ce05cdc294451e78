using Handoff.Contracts;
using Handoff.Grains.Placement;
using Microsoft.Extensions.Options;

namespace Handoff.Grains;

/// <summary>Durable profile of one device.</summary>
[GenerateSerializer, Alias("handoff.DeviceRecord")]
public sealed class DeviceRecord
{
    [Id(0)]
    public DeviceRegistration? Registration { get; set; }

    [Id(1)]
    public DateTimeOffset RegisteredAt { get; set; }
}

/// <summary>One device: profile and presence (payers by their silo, initiators by heartbeat).</summary>
public sealed class DeviceGrain(
    [PersistentState("device", HandoffOptions.StorageName)] IPersistentState<DeviceRecord> record,
    PayerSiloLocator payers,
    TimeProvider time,
    IOptions<HandoffOptions> options) : Grain, IDeviceGrain
{
    private DateTimeOffset _lastSeen = DateTimeOffset.MinValue;

    public async Task<DeviceStatus> RegisterAsync(DeviceRegistration registration)
    {
        Validation.RequireId(registration.DeviceId, "deviceId");
        Validation.RequireId(registration.HouseholdId, "householdId");
        Validation.RequireText(registration.DisplayName, "displayName", 64);
        if (!CallerContext.MayAccess(registration.HouseholdId))
        {
            throw new ForbiddenException($"a device of another household cannot register '{registration.DeviceId}'");
        }

        if (registration.DeviceId != this.GetPrimaryKeyString())
        {
            throw new ValidationException("deviceId", $"'{registration.DeviceId}' does not name this device");
        }

        if (record.State.Registration is { } existing && existing.HouseholdId != registration.HouseholdId)
        {
            throw new ConflictException($"device '{registration.DeviceId}' already belongs to another household");
        }

        if (record.State.Registration != registration)
        {
            record.State.RegisteredAt = record.State.Registration is null ? time.GetUtcNow() : record.State.RegisteredAt;
            record.State.Registration = registration;
            await record.WriteStateAsync();
        }

        await GrainFactory.GetGrain<IHouseholdGrain>(registration.HouseholdId).AddDeviceAsync(registration.DeviceId);
        _lastSeen = time.GetUtcNow();
        return Status(registration);
    }

    public Task<DeviceStatus?> GetStatusAsync() =>
        Task.FromResult(record.State.Registration is { } registration && CallerContext.MayAccess(registration.HouseholdId)
            ? Status(registration)
            : null);

    public Task HeartbeatAsync()
    {
        if (record.State.Registration is null)
        {
            throw new NotFoundException($"device '{this.GetPrimaryKeyString()}' is not registered");
        }

        _lastSeen = time.GetUtcNow();
        return Task.CompletedTask;
    }

    private DeviceStatus Status(DeviceRegistration registration)
    {
        var online = registration.Role == DeviceRole.Payer
            ? payers.IsOnline(registration.DeviceId)
            : time.GetUtcNow() - _lastSeen <= options.Value.PresenceWindow;
        return new DeviceStatus(
            registration.DeviceId,
            registration.HouseholdId,
            registration.DisplayName,
            registration.Kind,
            registration.Role,
            registration.Capabilities,
            online,
            record.State.RegisteredAt);
    }
}
