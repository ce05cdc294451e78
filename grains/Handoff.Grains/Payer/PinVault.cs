using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

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
/// The user verification of the devices a payer agent carries: their PIN hashes, and the lockout that follows too
/// many consecutive wrong PINs (across payments) on one device. Each lockout without a right PIN in between lasts
/// twice as long as the one before, up to <see cref="LongestLockout"/>. With a folder, each device's count and lock
/// are kept in <c>&lt;device&gt;.pin-attempts.json</c> there, written (and flushed to disk) before a wrong PIN is
/// answered, so restarting the agent neither clears a lock nor gives fresh tries.
/// </summary>
public sealed class PinVault(string? folder = null) : IUserVerifier
{
    /// <summary>The longest a device stays locked, however many lockouts came before.</summary>
    public static readonly TimeSpan LongestLockout = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<string, PinHash> _pins = new();
    private readonly ConcurrentDictionary<string, Attempts> _attempts = new();

    public void SetPin(string deviceId, string pin) => _pins[deviceId] = PinHash.Of(pin);

    public void SetPin(string deviceId, PinHash hash) => _pins[deviceId] = hash;

    public bool VerifyPin(string deviceId, string pin) => _pins.TryGetValue(deviceId, out var stored) && stored.Matches(pin);

    /// <summary>When the device is locked at <paramref name="now"/>, until when; otherwise null.</summary>
    public DateTimeOffset? LockedUntil(string deviceId, DateTimeOffset now)
    {
        var attempts = AttemptsOf(deviceId);
        lock (attempts)
        {
            return attempts.LockedUntil is { } until && until > now ? until : null;
        }
    }

    /// <summary>
    /// Counts a wrong PIN; returns the lock's end when this one locked the device: <paramref name="lockFor"/> for the
    /// first lockout, doubling with each next one until a right PIN.
    /// </summary>
    public DateTimeOffset? Failed(string deviceId, DateTimeOffset now, int lockAfter, TimeSpan lockFor)
    {
        var attempts = AttemptsOf(deviceId);
        lock (attempts)
        {
            attempts.Consecutive++;
            if (attempts.Consecutive >= lockAfter)
            {
                var doublings = Math.Min(attempts.Lockouts, 20);
                var length = TimeSpan.FromTicks(Math.Min(lockFor.Ticks * (1L << doublings), LongestLockout.Ticks));
                attempts.Consecutive = 0;
                attempts.Lockouts++;
                attempts.LockedUntil = now + length;
            }

            Save(deviceId, attempts);
            return attempts.Consecutive == 0 ? attempts.LockedUntil : null;
        }
    }

    public void Succeeded(string deviceId)
    {
        var attempts = AttemptsOf(deviceId);
        lock (attempts)
        {
            if (attempts is { Consecutive: 0, Lockouts: 0, LockedUntil: null })
            {
                return;
            }

            attempts.Consecutive = 0;
            attempts.Lockouts = 0;
            attempts.LockedUntil = null;
            Save(deviceId, attempts);
        }
    }

    /// <summary>The file that keeps <paramref name="deviceId"/>'s wrong PINs and lock, when this vault keeps them.</summary>
    public string? FileOf(string deviceId) => folder is null ? null : Path.Combine(folder, $"{deviceId}.pin-attempts.json");

    private Attempts AttemptsOf(string deviceId) => _attempts.GetOrAdd(deviceId, Load);

    private Attempts Load(string deviceId)
    {
        if (FileOf(deviceId) is not { } file || !File.Exists(file))
        {
            return new Attempts();
        }

        try
        {
            return JsonSerializer.Deserialize<Attempts>(File.ReadAllBytes(file)) ?? new Attempts();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file} is not a PIN attempts file ({ex.Message}); remove it only if you know no one is guessing this device's PIN", ex);
        }
    }

    private void Save(string deviceId, Attempts attempts)
    {
        if (FileOf(deviceId) is not { } file)
        {
            return;
        }

        // Written beside, flushed, then renamed over: a crash leaves the old count or the new one, never half a file.
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temporary = file + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, attempts);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, file, overwrite: true);
    }

    private sealed class Attempts
    {
        public int Consecutive { get; set; }

        public int Lockouts { get; set; }

        public DateTimeOffset? LockedUntil { get; set; }
    }
}
