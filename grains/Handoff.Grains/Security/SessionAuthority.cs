using System.Collections.Concurrent;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Handoff.Grains.Security;

/// <summary>
/// The hub's word on who is calling. It issues session credentials (a MAC over household, device and expiry,
/// under a key only hub silos hold) and checks them on every call, and it makes and checks the token a hub silo
/// puts on the calls it makes itself. The key comes from the admin token, so a cluster's hubs agree on it.
/// </summary>
public sealed partial class SessionAuthority
{
    private const string Version = "v1";
    private const int MacBytes = 16;

    private static ReadOnlySpan<byte> AuthorityPrefix => "authority|"u8;

    // A hub's clock and another's may differ a little: an authority token counts in its minute and the two around it.
    private const long AuthoritySlackMinutes = 2;

    /// <summary>How many verified credentials are remembered (a household has a few devices; a load test, hundreds).</summary>
    private const int VerifiedCapacity = 4_096;

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (string HouseholdId, string DeviceId, long ExpiresAt)> _verified = new(StringComparer.Ordinal);

    public SessionAuthority(IOptions<HandoffOptions> options, TimeProvider time, ILogger<SessionAuthority> logger)
    {
        _time = time;
        Lifetime = options.Value.SessionLifetime;
        if (options.Value.AdminToken is { Length: > 0 } admin)
        {
            _key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(admin), "handoff session key v1"u8);
        }
        else
        {
            // Without an admin token a hub still works alone; hubs of one cluster then refuse each other's sessions.
            _key = RandomNumberGenerator.GetBytes(32);
            LogRandomKey(logger);
        }
    }

    /// <summary>How long a credential counts from its issue.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>A credential for <paramref name="deviceId"/> of <paramref name="householdId"/>, valid for <see cref="Lifetime"/>.</summary>
    public SessionGrant Issue(string householdId, string deviceId)
    {
        var expires = _time.GetUtcNow() + Lifetime;
        var expiresAt = expires.ToUnixTimeSeconds();
        var body = $"{Version}.{Encode(householdId)}.{Encode(deviceId)}.{expiresAt}";
        return new SessionGrant($"{body}.{Mac(body)}", householdId, deviceId, DateTimeOffset.FromUnixTimeSeconds(expiresAt));
    }

    /// <summary>Checks a credential; throws <see cref="ForbiddenException"/> or <see cref="SessionExpiredException"/> unless it counts now.</summary>
    public (string HouseholdId, string DeviceId) Verify(string token)
    {
        // Every call carries its credential: a credential checked once is remembered (its expiry is checked each time).
        if (!_verified.TryGetValue(token, out var known))
        {
            known = Check(token);
            if (_verified.Count >= VerifiedCapacity)
            {
                _verified.Clear();
            }

            _verified[token] = known;
        }

        if (_time.GetUtcNow().ToUnixTimeSeconds() >= known.ExpiresAt)
        {
            throw new SessionExpiredException("the session credential has expired: open a new session");
        }

        return (known.HouseholdId, known.DeviceId);
    }

    /// <summary>Checks a credential's form and MAC; the expiry is the caller's to check.</summary>
    private (string HouseholdId, string DeviceId, long ExpiresAt) Check(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 5 || parts[0] != Version || !long.TryParse(parts[3], out var expiresAt))
        {
            throw new ForbiddenException("the session credential is malformed");
        }

        var body = string.Join('.', parts, 0, 4);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(body)), Encoding.ASCII.GetBytes(parts[4])))
        {
            // Also what a credential of another household's hub gets: the key is not the same.
            throw new ForbiddenException("the session credential is not this hub's: forged, or made by another household's hub");
        }

        return (Decode(parts[1]), Decode(parts[2]), expiresAt);
    }

    /// <summary>The token a hub silo sends with a call it makes to <paramref name="target"/>: good for that grain, for minutes.</summary>
    public string AuthorityToken(GrainId target)
    {
        var minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        Span<byte> mac = stackalloc byte[MacBytes];
        AuthorityMac(target, minute, mac);
        return string.Create(CultureInfo.InvariantCulture, $"{minute}.{Base64Url(mac)}");
    }

    /// <summary>True when <paramref name="token"/> was made by a hub silo, for this very <paramref name="target"/>, lately.</summary>
    public bool IsAuthority(string token, GrainId target)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        Span<byte> given = stackalloc byte[MacBytes];
        if (dot <= 0
            || !long.TryParse(token.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var minute)
            || !System.Buffers.Text.Base64Url.TryDecodeFromChars(token.AsSpan(dot + 1), given, out var written)
            || written != MacBytes)
        {
            return false;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        Span<byte> expected = stackalloc byte[MacBytes];
        AuthorityMac(target, minute, expected);
        return Math.Abs(now - minute) <= AuthoritySlackMinutes && CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// The MAC of "authority|{target}|" and the minute (8 bytes, big-endian), written without a string: every call
    /// between hub silos is stamped and checked.
    /// </summary>
    private void AuthorityMac(GrainId target, long minute, Span<byte> mac)
    {
        var type = target.Type.AsSpan();
        var key = target.Key.AsSpan();
        var length = AuthorityPrefix.Length + type.Length + 1 + key.Length + 1 + sizeof(long);
        Span<byte> payload = length <= 512 ? stackalloc byte[length] : new byte[length];
        var at = 0;
        Append(AuthorityPrefix, payload, ref at);
        Append(type, payload, ref at);
        Append("/"u8, payload, ref at);
        Append(key, payload, ref at);
        Append("|"u8, payload, ref at);
        BinaryPrimitives.WriteInt64BigEndian(payload[at..], minute);
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, payload, full);
        full[..MacBytes].CopyTo(mac);
    }

    private static void Append(ReadOnlySpan<byte> part, Span<byte> payload, ref int at)
    {
        part.CopyTo(payload[at..]);
        at += part.Length;
    }

    private string Mac(string body) => Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(body)).AsSpan(0, MacBytes));

    private static string Encode(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    private static string Decode(string text) => Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(text));

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin token is configured (Handoff:AdminToken): session credentials use a random key, so only this hub accepts them")]
    private static partial void LogRandomKey(ILogger logger);
}
