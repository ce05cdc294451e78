using System.Security.Cryptography;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Placement;
using Handoff.Grains.Security;
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
}

/// <summary>One device: profile, public key and presence (payers by their silo, initiators by heartbeat).</summary>
public sealed class DeviceGrain(
    [PersistentState("device", HandoffOptions.StorageName)] IPersistentState<DeviceRecord> record,
    PayerSiloLocator payers,
    AdminToken admin,
    SessionAuthority sessions,
    TimeProvider time,
    IOptions<HandoffOptions> options) : Grain, IDeviceGrain
{
    private static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(2);
    private const int MaxOpenChallenges = 16;

    private readonly Dictionary<string, DateTimeOffset> _challenges = new(StringComparer.Ordinal);
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
            await record.WriteStateAsync();
        }
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
            record.State.RegisteredAt,
            record.State.PublicKey);
    }
}
