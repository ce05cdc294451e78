using System.Collections.Concurrent;

namespace Handoff.Contracts.Security;

/// <summary>
/// The session credentials of the devices whose keys this process holds: each opened once (a challenge from
/// the hub, signed with the device key), reused for every call, and opened again shortly before it expires or
/// when the hub says it no longer counts. The SDK and the payer agent both call through it.
/// </summary>
public sealed class DeviceSessions(IGrainFactory grains, IDeviceSigner signer, TimeProvider time)
{
    // Opened again this long before the hub's expiry, so a call never leaves with a credential about to lapse.
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, Task<SessionGrant>> _grants = new(StringComparer.Ordinal);

    /// <summary>Which device each credential handed out here belongs to (so a call's device is found without a search).</summary>
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);

    /// <summary>True when this process holds the key of <paramref name="deviceId"/>.</summary>
    public bool Holds(string deviceId) => signer.Holds(deviceId);

    /// <summary>A current credential of <paramref name="deviceId"/>, opening a session when there is none.</summary>
    public async Task<string> TokenAsync(string deviceId)
    {
        var grant = _grants.GetOrAdd(deviceId, OpenAsync);
        SessionGrant current;
        try
        {
            current = await grant;
        }
        catch
        {
            _grants.TryRemove(new KeyValuePair<string, Task<SessionGrant>>(deviceId, grant));
            throw;
        }

        if (time.GetUtcNow() < current.ExpiresAt - RenewBefore)
        {
            return current.Token;
        }

        Forget(deviceId, grant);
        return (await _grants.GetOrAdd(deviceId, OpenAsync)).Token;
    }

    /// <summary>True when <paramref name="token"/> is a credential this process holds for <paramref name="deviceId"/>.</summary>
    public bool IsCurrent(string deviceId, string? token) =>
        token is not null && _grants.TryGetValue(deviceId, out var grant) && grant.IsCompletedSuccessfully && grant.Result.Token == token;

    /// <summary>The device whose current credential <paramref name="token"/> is, or null.</summary>
    public string? DeviceOf(string? token) =>
        token is not null && _owners.TryGetValue(token, out var deviceId) && IsCurrent(deviceId, token) ? deviceId : null;

    /// <summary>Runs <paramref name="call"/> as <paramref name="deviceId"/>; opens a new session once if the hub refused the old one.</summary>
    public async Task<T> CallAsync<T>(string deviceId, Func<Task<T>> call)
    {
        CallerContext.UseSession(await TokenAsync(deviceId));
        try
        {
            return await call();
        }
        catch (SessionExpiredException)
        {
            if (_grants.TryGetValue(deviceId, out var stale))
            {
                Forget(deviceId, stale);
            }

            CallerContext.UseSession(await TokenAsync(deviceId));
            return await call();
        }
    }

    private void Forget(string deviceId, Task<SessionGrant> grant)
    {
        if (_grants.TryRemove(new KeyValuePair<string, Task<SessionGrant>>(deviceId, grant)) && grant.IsCompletedSuccessfully)
        {
            _owners.TryRemove(grant.Result.Token, out _);
        }
    }

    private async Task<SessionGrant> OpenAsync(string deviceId)
    {
        if (!signer.Holds(deviceId))
        {
            throw new ForbiddenException($"no key for device '{deviceId}' here: only a paired device can open a session");
        }

        var device = grains.GetGrain<IDeviceGrain>(deviceId);
        var challenge = await device.GetSessionChallengeAsync();
        var grant = await device.OpenSessionAsync(new SessionProof(deviceId, challenge, signer.Sign(deviceId, Signing.Session(deviceId, challenge))));
        _owners[grant.Token] = deviceId;
        return grant;
    }
}
