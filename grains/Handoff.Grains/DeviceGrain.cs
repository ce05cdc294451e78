using System.Security.Cryptography;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Placement;
using Handoff.Grains.Security;
using Microsoft.Extensions.Logging;
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

    [Id(2)]
    public byte[]? PublicKey { get; set; }

    [Id(3)]
    public bool Removed { get; set; }

    /// <summary>The device's platform credential, for biometric approvals; null until its payer page registers one.</summary>
    [Id(4)]
    public WebAuthnCredentialRecord? WebAuthnCredential { get; set; }
}

/// <summary>One device: profile, public key, platform credential and presence (payers by their silo, initiators by heartbeat).</summary>
public sealed partial class DeviceGrain(
    [PersistentState("device", HandoffOptions.StorageName)] IPersistentState<DeviceRecord> record,
    PayerSiloLocator payers,
    AdminToken admin,
    SessionAuthority sessions,
    TimeProvider time,
    IOptions<HandoffOptions> options,
    ILogger<DeviceGrain> logger) : Grain, IDeviceGrain
{
    private static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(2);
    private const int MaxOpenChallenges = 16;

    private readonly Dictionary<string, DateTimeOffset> _challenges = new(StringComparer.Ordinal);
    private readonly WebAuthnCeremonies _ceremonies = new();
    private DateTimeOffset _lastSeen = DateTimeOffset.MinValue;

    private DeviceRegistration? Active => record.State is { Registration: { } registration, Removed: false } ? registration : null;

    public async Task<DeviceStatus> EnrollAsync(string adminToken, DeviceRegistration registration, byte[] publicKey)
    {
        admin.Require(adminToken);
        if (registration.DeviceId != this.GetPrimaryKeyString())
        {
            throw new ValidationException("deviceId", $"'{registration.DeviceId}' does not name this device", ErrorCodes.InvalidId);
        }

        if (Active is { } existing && existing.HouseholdId != registration.HouseholdId)
        {
            throw new ConflictException($"device '{registration.DeviceId}' already belongs to another household");
        }

        record.State.Registration = registration;
        record.State.PublicKey = publicKey;
        record.State.Removed = false;

        // A new pairing is a new device key: a platform credential made under the old one does not carry over.
        record.State.WebAuthnCredential = null;
        record.State.RegisteredAt = time.GetUtcNow();
        await record.WriteStateAsync();
        _lastSeen = time.GetUtcNow();
        return Status(registration);
    }

    public Task<DeviceStatus?> GetStatusAsync() =>
        Task.FromResult(Active is { } registration && CallerContext.MayAccess(registration.HouseholdId) ? Status(registration) : null);

    public Task<string> GetSessionChallengeAsync()
    {
        var now = time.GetUtcNow();
        foreach (var stale in _challenges.Where(challenge => challenge.Value <= now).Select(challenge => challenge.Key).ToList())
        {
            _challenges.Remove(stale);
        }

        if (_challenges.Count >= MaxOpenChallenges)
        {
            // Bounded: a caller asking for challenges it never answers cannot grow this grain.
            _challenges.Remove(_challenges.MinBy(challenge => challenge.Value).Key);
        }

        var challenge = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _challenges[challenge] = now + ChallengeLifetime;
        return Task.FromResult(challenge);
    }

    public Task<SessionGrant> OpenSessionAsync(SessionProof proof)
    {
        var deviceId = this.GetPrimaryKeyString();

        // A challenge counts once, whatever the outcome: a proof can never be replayed.
        var fresh = proof.DeviceId == deviceId && _challenges.Remove(proof.Challenge, out var expires) && expires > time.GetUtcNow();
        if (!fresh || Active is not { } registration
            || !Signing.Verify(record.State.PublicKey, Signing.Session(deviceId, proof.Challenge), proof.Signature))
        {
            throw new ForbiddenException($"device '{deviceId}' did not prove its key (not paired, removed, or a stale challenge)");
        }

        return Task.FromResult(sessions.Issue(registration.HouseholdId, deviceId));
    }

    public Task HeartbeatAsync()
    {
        if (Active is null || !CallerContext.IsDeviceOrAuthority(this.GetPrimaryKeyString()))
        {
            throw new NotFoundException($"device '{this.GetPrimaryKeyString()}' is not paired");
        }

        _lastSeen = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task<string> BeginWebAuthnRegistrationAsync(string origin) =>
        Task.FromResult(_ceremonies.Begin(RequireSelf(), origin, time.GetUtcNow()));

    public async Task<DeviceStatus> CompleteWebAuthnRegistrationAsync(WebAuthnAttestation attestation)
    {
        var registration = RequireSelf();
        var credential = await _ceremonies.CompleteAsync(registration, attestation, time.GetUtcNow());
        record.State.WebAuthnCredential = credential;
        await record.WriteStateAsync();
        LogCredentialRegistered(logger, registration.DeviceId, credential.Origin);
        return Status(registration);
    }

    public Task<WebAuthnCredentialInfo?> GetWebAuthnCredentialAsync()
    {
        RequireSelf();
        return Task.FromResult(record.State.WebAuthnCredential is { } credential
            ? new WebAuthnCredentialInfo(credential.CredentialId, credential.Origin, credential.RegisteredAt)
            : null);
    }

    public async Task<byte[]?> VerifyApprovalAsync(byte[] statement, byte[]? signature, WebAuthnAssertion? assertion, byte[]? challenge)
    {
        if (Active is null || record.State.PublicKey is not { } key || !Signing.Verify(key, statement, signature))
        {
            return null;
        }

        if (assertion is null)
        {
            return key;
        }

        var deviceId = this.GetPrimaryKeyString();
        if (record.State.WebAuthnCredential is not { } credential || challenge is null)
        {
            throw new ForbiddenException($"biometric: device '{deviceId}' has no registered platform credential");
        }

        // One check at a time (this grain's turn): the counter read, compared and stored can never race another assertion.
        uint signCount;
        try
        {
            signCount = await WebAuthnRelyingParty.VerifyAssertionAsync(credential, assertion, challenge);
        }
        catch (ForbiddenException refused)
        {
            LogAssertionRefused(logger, deviceId, refused.Message);
            throw;
        }

        credential.SignCount = signCount;
        await record.WriteStateAsync();
        return key;
    }

    public async Task<DeviceStatus> RenameAsync(string adminToken, string displayName)
    {
        admin.Require(adminToken);
        var registration = Active ?? throw new NotFoundException($"device '{this.GetPrimaryKeyString()}' is not paired");
        Validation.RequireText(displayName, "displayName", 64);
        record.State.Registration = registration with { DisplayName = displayName };
        await record.WriteStateAsync();
        return Status(record.State.Registration);
    }

    public async Task RemoveAsync(string adminToken)
    {
        admin.Require(adminToken);
        if (Active is not null)
        {
            record.State.Removed = true;
            record.State.PublicKey = null;
            record.State.WebAuthnCredential = null;
            await record.WriteStateAsync();
        }
    }

    /// <summary>The device's registration, when the verified caller is this very device (not the hub, not the administrator).</summary>
    private DeviceRegistration RequireSelf()
    {
        var deviceId = this.GetPrimaryKeyString();
        if (Active is not { } registration || CallerContext.Device != deviceId)
        {
            throw new ForbiddenException($"only device '{deviceId}' itself registers and reads its platform credential");
        }

        return registration;
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
            CapabilitiesOf(registration),
            online,
            record.State.RegisteredAt,
            record.State.PublicKey);
    }

    /// <summary>
    /// What the device can do. It lists the biometric method exactly when the household holds a platform credential
    /// of it: a device cannot claim biometric at pairing, only register it.
    /// </summary>
    private DeviceCapabilities CapabilitiesOf(DeviceRegistration registration)
    {
        var claimed = registration.Capabilities;
        IReadOnlyList<AuthMethod> methods = [.. claimed.AuthMethods.Where(method => method != AuthMethod.Biometric)];
        if (record.State.WebAuthnCredential is not null && claimed.CanPay)
        {
            methods = [.. methods, AuthMethod.Biometric];
        }

        return claimed with { AuthMethods = methods };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId}: platform credential registered for {Origin}")]
    private static partial void LogCredentialRegistered(ILogger logger, string deviceId, string origin);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId}: assertion refused ({Reason})")]
    private static partial void LogAssertionRefused(ILogger logger, string deviceId, string reason);
}
