using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>One device of a household (key: device id): its profile, public key, capabilities and presence.</summary>
[Alias("handoff.IDeviceGrain")]
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>Records a device its household just paired, with its public key (the household's call, under the hub's admin token).</summary>
    [Alias("Enroll"), AuthorityOnly]
    Task<DeviceStatus> EnrollAsync(string adminToken, DeviceRegistration registration, byte[] publicKey);

    /// <summary>The device with its presence, or null when it is not (or no longer) a device of the caller's household.</summary>
    [Alias("GetStatus")]
    Task<DeviceStatus?> GetStatusAsync();

    /// <summary>A fresh, single-use challenge for <see cref="OpenSessionAsync"/> (valid for two minutes).</summary>
    [Alias("SessionChallenge"), NoSession]
    Task<string> GetSessionChallengeAsync();

    /// <summary>
    /// Opens a session: the device proves it holds its key (its signature over a challenge from <see cref="GetSessionChallengeAsync"/>), and gets a
    /// short-lived credential that every later call carries. Refused for a device that is not (or no longer) paired.
    /// </summary>
    [Alias("OpenSession"), NoSession]
    Task<SessionGrant> OpenSessionAsync(SessionProof proof);

    /// <summary>Marks the calling initiator device as present; payer presence comes from its silo.</summary>
    [Alias("Heartbeat")]
    Task HeartbeatAsync();

    /// <summary>Gives the device a new display name (admin).</summary>
    [Alias("Rename"), NoSession]
    Task<DeviceStatus> RenameAsync(string adminToken, string displayName);

    /// <summary>Removes the device: its key stops counting, it can do nothing any more (admin).</summary>
    [Alias("Remove"), NoSession]
    Task RemoveAsync(string adminToken);
}
