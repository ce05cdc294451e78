using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Handoff.Grains.Payer;

/// <summary>A PIN as the device keeps it: a random salt and a slow PBKDF2 hash, never the PIN itself.</summary>
public sealed record PinHash(byte[] Salt, byte[] Hash)
{
    public const int Iterations = 100_000;

    public const int MinLength = 4;

    public const int MaxLength = 12;

    /// <summary>True when <paramref name="pin"/> can be a PIN at all: <see cref="MinLength"/> to <see cref="MaxLength"/> ASCII digits.</summary>
    public static bool IsWellFormed(string? pin) => pin is { Length: >= MinLength and <= MaxLength } && pin.All(char.IsAsciiDigit);

    public static PinHash Of(string pin)
    {
        if (!IsWellFormed(pin))
        {
            throw new ArgumentException($"a PIN must be {MinLength} to {MaxLength} digits", nameof(pin));
        }

        var salt = RandomNumberGenerator.GetBytes(16);
        return new PinHash(salt, Derive(pin, salt));
    }

    public bool Matches(string pin) => CryptographicOperations.FixedTimeEquals(Hash, Derive(pin, Salt));

    private static byte[] Derive(string pin, byte[] salt) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(pin), salt, Iterations, HashAlgorithmName.SHA256, 32);
}

/// <summary>
/// The user verification of the devices a payer agent carries: their PIN hashes, and the lockout that
/// follows too many consecutive wrong PINs (across payments) on one device.
/// </summary>
public sealed class PinVault : IUserVerifier
{
    private readonly ConcurrentDictionary<string, PinHash> _pins = new();
    private readonly ConcurrentDictionary<string, Attempts> _attempts = new();

    public void SetPin(string deviceId, string pin) => _pins[deviceId] = PinHash.Of(pin);

    public void SetPin(string deviceId, PinHash hash) => _pins[deviceId] = hash;

    public bool VerifyPin(string deviceId, string pin) => _pins.TryGetValue(deviceId, out var stored) && stored.Matches(pin);

    /// <summary>When the device is locked at <paramref name="now"/>, until when; otherwise null.</summary>
    public DateTimeOffset? LockedUntil(string deviceId, DateTimeOffset now) =>
        _attempts.TryGetValue(deviceId, out var attempts) && attempts.LockedUntil is { } until && until > now ? until : null;

    /// <summary>Counts a wrong PIN; returns the lock's end when this one locked the device.</summary>
    public DateTimeOffset? Failed(string deviceId, DateTimeOffset now, int lockAfter, TimeSpan lockFor)
    {
        var attempts = _attempts.GetOrAdd(deviceId, _ => new Attempts());
        lock (attempts)
        {
            attempts.Consecutive++;
            if (attempts.Consecutive < lockAfter)
            {
                return null;
            }

            attempts.Consecutive = 0;
            attempts.LockedUntil = now + lockFor;
            return attempts.LockedUntil;
        }
    }

    public void Succeeded(string deviceId) => _attempts.TryRemove(deviceId, out _);

    private sealed class Attempts
    {
        public int Consecutive { get; set; }

        public DateTimeOffset? LockedUntil { get; set; }
    }
}
