using System.Security.Cryptography;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Microsoft.Extensions.Options;

namespace Handoff.Grains;

/// <summary>Durable roster, pairing code and recent payments of one household.</summary>
[GenerateSerializer, Alias("handoff.HouseholdRecord")]
public sealed class HouseholdRecord
{
    [Id(0)]
    public List<string> Devices { get; set; } = [];

    [Id(1)]
    public List<string> RecentPayments { get; set; } = [];

    [Id(2)]
    public byte[]? PairingCodeHash { get; set; }

    [Id(3)]
    public DateTimeOffset PairingCodeExpiresAt { get; set; }

    [Id(4)]
    public int PairingCodeTries { get; set; }
}

/// <summary>A household: who belongs (pairing), its roster and its most recent payments.</summary>
public sealed class HouseholdGrain(
    [PersistentState("household", HandoffOptions.StorageName)] IPersistentState<HouseholdRecord> record,
    AdminToken admin,
    Security.SessionAuthority sessions,
    TimeProvider time,
    IOptions<HandoffOptions> options) : Grain, IHouseholdGrain
{
    private const int RecentLimit = 100;
    private IGrainTimer? _saveRecent;

    private string HouseholdId => this.GetPrimaryKeyString();

    public async Task<PairingCode> CreatePairingCodeAsync(string adminToken)
    {
        admin.Require(adminToken);
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        record.State.PairingCodeHash = HashOf(code);
        record.State.PairingCodeExpiresAt = time.GetUtcNow() + options.Value.PairingCodeLifetime;
        record.State.PairingCodeTries = 0;
        await record.WriteStateAsync();
        return new PairingCode(code, record.State.PairingCodeExpiresAt, options.Value.PairingCodeTries);
    }

    public async Task<DeviceStatus> PairDeviceAsync(string code, DeviceRegistration registration, byte[] publicKey)
    {
        Validation.RequireId(registration.DeviceId, "deviceId");
        Validation.RequireText(registration.DisplayName, "displayName", 64);
        if (registration.HouseholdId != HouseholdId)
        {
            throw new ValidationException("householdId", $"'{registration.HouseholdId}' is not this household", ErrorCodes.InvalidId);
        }

        if (!IsP256PublicKey(publicKey))
        {
            throw new ValidationException("publicKey", "must be an ECDSA P-256 public key (DER SubjectPublicKeyInfo)", ErrorCodes.WrongType);
        }

        await ConsumePairingCodeAsync(code);
        var device = await GrainFactory.GetGrain<IDeviceGrain>(registration.DeviceId)
            .EnrollAsync(options.Value.AdminToken!, registration, publicKey);
        if (!record.State.Devices.Contains(registration.DeviceId))
        {
            record.State.Devices.Add(registration.DeviceId);
            await record.WriteStateAsync();
        }

        return device;
    }

    public Task<SessionGrant> OpenAdminSessionAsync(string adminToken)
    {
        admin.Require(adminToken);
        return Task.FromResult(sessions.Issue(HouseholdId, Households.AdminDevice));
    }

    public async Task<IReadOnlyList<DeviceStatus>> ListDevicesAsync()
    {
        if (!CallerContext.MayAccess(HouseholdId))
        {
            return [];
        }

        var statuses = await Task.WhenAll(
            record.State.Devices.Select(id => GrainFactory.GetGrain<IDeviceGrain>(id).GetStatusAsync()));
        return [.. statuses.OfType<DeviceStatus>().OrderBy(device => device.Role).ThenBy(device => device.DeviceId, StringComparer.Ordinal)];
    }

    public Task<DeviceStatus> RenameDeviceAsync(string adminToken, string deviceId, string displayName)
    {
        RequireMember(deviceId);
        return GrainFactory.GetGrain<IDeviceGrain>(deviceId).RenameAsync(adminToken, displayName);
    }

    public async Task RemoveDeviceAsync(string adminToken, string deviceId)
    {
        admin.Require(adminToken);
        RequireMember(deviceId);
        await GrainFactory.GetGrain<IDeviceGrain>(deviceId).RemoveAsync(adminToken);
        record.State.Devices.Remove(deviceId);
        await record.WriteStateAsync();
    }

    public Task NotePaymentAsync(string paymentId)
    {
        if (record.State.RecentPayments.Contains(paymentId))
        {
            return Task.CompletedTask;
        }

        record.State.RecentPayments.Insert(0, paymentId);
        if (record.State.RecentPayments.Count > RecentLimit)
        {
            record.State.RecentPayments.RemoveRange(RecentLimit, record.State.RecentPayments.Count - RecentLimit);
        }

        // Busy households note many payments a second: one write covers all noted within the delay.
        _saveRecent ??= this.RegisterGrainTimer(
            SaveRecentAsync,
            new GrainTimerCreationOptions(options.Value.RecentPaymentsSaveDelay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_saveRecent is not null)
        {
            await SaveRecentAsync();
        }
    }

    public Task<IReadOnlyList<string>> RecentPaymentsAsync(int count) =>
        Task.FromResult<IReadOnlyList<string>>(CallerContext.MayAccess(HouseholdId)
            ? [.. record.State.RecentPayments.Take(Math.Clamp(count, 0, RecentLimit))]
            : []);

    private async Task SaveRecentAsync()
    {
        _saveRecent?.Dispose();
        _saveRecent = null;
        await record.WriteStateAsync();
    }

    private async Task ConsumePairingCodeAsync(string code)
    {
        if (record.State.PairingCodeHash is not { } expected || time.GetUtcNow() >= record.State.PairingCodeExpiresAt)
        {
            throw new ForbiddenException("no valid pairing code: ask the hub for a new one (handoff pair)");
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, HashOf(code ?? string.Empty)))
        {
            record.State.PairingCodeTries++;
            var burned = record.State.PairingCodeTries >= options.Value.PairingCodeTries;
            if (burned)
            {
                record.State.PairingCodeHash = null;
            }

            await record.WriteStateAsync();
            throw new ForbiddenException(burned
                ? "wrong pairing code; it is now used up: ask the hub for a new one"
                : $"wrong pairing code, {options.Value.PairingCodeTries - record.State.PairingCodeTries} tries left");
        }

        // One code, one device.
        record.State.PairingCodeHash = null;
        await record.WriteStateAsync();
    }

    private void RequireMember(string deviceId)
    {
        if (!record.State.Devices.Contains(deviceId))
        {
            throw new NotFoundException($"no device '{deviceId}' in household '{HouseholdId}'");
        }
    }

    private byte[] HashOf(string code) => SHA256.HashData(Encoding.UTF8.GetBytes($"{HouseholdId}\n{code}"));

    private static bool IsP256PublicKey(byte[]? publicKey)
    {
        if (publicKey is not { Length: > 0 and < 512 })
        {
            return false;
        }

        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(publicKey, out _);
            return key.KeySize == 256;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
