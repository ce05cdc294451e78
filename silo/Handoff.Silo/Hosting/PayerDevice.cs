using System.Security.Cryptography;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;

namespace Handoff.Silo.Hosting;

/// <summary>A payer device carried by a payer silo: its private key and its PIN hash, both kept on the device only.</summary>
public sealed record PayerDevice(string Id, string DisplayName, DeviceKind Kind, PinHash Pin, ECDsa Key)
{
    /// <summary>A new device with a fresh key pair and the hash of <paramref name="pin"/>.</summary>
    public static PayerDevice Create(string id, string displayName, DeviceKind kind, string pin) =>
        new(id, displayName, kind, PinHash.Of(pin), Signing.NewKey());

    public byte[] PublicKey => Signing.PublicKeyOf(Key);

    public DeviceRegistration ToRegistration(string householdId) =>
        new(Id, householdId, DisplayName, Kind, DeviceRole.Payer, DeviceCapabilities.Payer);
}
