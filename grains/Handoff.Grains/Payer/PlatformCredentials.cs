using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Payer;

/// <summary>
/// Registers the platform credential of a device this payer process carries, as that device (its own session):
/// the hub makes the creation options and checks the attestation; nothing about the credential is decided here.
/// </summary>
public sealed class PlatformCredentials(DeviceSessions sessions, IGrainFactory grains)
{
    /// <summary>The creation options (JSON) for the device's page at <paramref name="origin"/>.</summary>
    public Task<string> BeginAsync(string deviceId, string origin) =>
        sessions.CallAsync(deviceId, () => Device(deviceId).BeginWebAuthnRegistrationAsync(origin));

    /// <summary>Hands the authenticator's attestation to the hub; the device then lists the biometric method.</summary>
    public Task<DeviceStatus> CompleteAsync(string deviceId, WebAuthnAttestation attestation) =>
        sessions.CallAsync(deviceId, () => Device(deviceId).CompleteWebAuthnRegistrationAsync(attestation));

    /// <summary>The device's registered credential, or null.</summary>
    public Task<WebAuthnCredentialInfo?> GetAsync(string deviceId) =>
        sessions.CallAsync(deviceId, () => Device(deviceId).GetWebAuthnCredentialAsync());

    private IDeviceGrain Device(string deviceId) => grains.GetGrain<IDeviceGrain>(deviceId);
}
