namespace Handoff.Contracts;

/// <summary>One device of a household (key: device id): its profile, capabilities and presence.</summary>
[Alias("handoff.IDeviceGrain")]
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>Records the device's profile; a device belongs to one household for good.</summary>
    [Alias("Register")]
    Task<DeviceStatus> RegisterAsync(DeviceRegistration registration);

    /// <summary>The device with its presence, or null when it was never registered.</summary>
    [Alias("GetStatus")]
    Task<DeviceStatus?> GetStatusAsync();

    /// <summary>Marks an initiator device as present; payer presence comes from its silo.</summary>
    [Alias("Heartbeat")]
    Task HeartbeatAsync();
}
