using Handoff.Contracts;

namespace Handoff.Silo.Hosting;

/// <summary>A payer device carried by a payer silo, with the PIN its person verifies with.</summary>
public sealed record PayerDevice(string Id, string DisplayName, DeviceKind Kind, string Pin)
{
    public DeviceRegistration ToRegistration(string householdId) =>
        new(Id, householdId, DisplayName, Kind, DeviceRole.Payer, DeviceCapabilities.Payer);
}
