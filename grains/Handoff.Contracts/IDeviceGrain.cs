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

    /// <summary>
    /// Starts registering the device's platform credential, for its payer page at <paramref name="origin"/>
    /// (http://localhost:PORT): the WebAuthn creation options (JSON, for <c>navigator.credentials.create</c>) with a
    /// fresh challenge this grain keeps for two minutes. Only the device itself, in its own session.
    /// </summary>
    [Alias("BeginWebAuthnRegistration")]
    Task<string> BeginWebAuthnRegistrationAsync(string origin);

    /// <summary>
    /// Completes the registration begun with <see cref="BeginWebAuthnRegistrationAsync"/>: the attestation is checked
    /// (challenge, origin, relying party, user verified) and its credential becomes the device's, in place of any
    /// earlier one; the device then lists <see cref="AuthMethod.Biometric"/>. Only the device itself.
    /// </summary>
    [Alias("CompleteWebAuthnRegistration")]
    Task<DeviceStatus> CompleteWebAuthnRegistrationAsync(WebAuthnAttestation attestation);

    /// <summary>The device's registered platform credential, or null when it has none. Only the device itself.</summary>
    [Alias("GetWebAuthnCredential")]
    Task<WebAuthnCredentialInfo?> GetWebAuthnCredentialAsync();

    /// <summary>
    /// Checks an approval in one call, for the payment's authority: the device's current public key when it signed
    /// <paramref name="statement"/> (null otherwise); then, when an <paramref name="assertion"/> comes with it, an assertion of the
    /// device's registered credential over <paramref name="challenge"/> (which the authority computes from its own
    /// record): signature, challenge, origin, relying party, user verified, and a signature counter above the last
    /// one, which it then stores. An assertion that fails any of these is refused (forbidden).
    /// </summary>
    [Alias("VerifyApproval"), AuthorityOnly]
    Task<byte[]?> VerifyApprovalAsync(byte[] statement, byte[]? signature, WebAuthnAssertion? assertion, byte[]? challenge);

    /// <summary>Gives the device a new display name (admin).</summary>
    [Alias("Rename"), NoSession]
    Task<DeviceStatus> RenameAsync(string adminToken, string displayName);

    /// <summary>Removes the device: its key stops counting, it can do nothing any more (admin).</summary>
    [Alias("Remove"), NoSession]
    Task RemoveAsync(string adminToken);
}
