using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Handoff.Grains.Payer;

/// <summary>PINs of the devices a payer agent carries, kept only as salted PBKDF2 hashes.</summary>
public sealed class PinVault : IUserVerifier
{
    private const int Iterations = 100_000;
    private readonly ConcurrentDictionary<string, (byte[] Salt, byte[] Hash)> _pins = new();

    public void SetPin(string deviceId, string pin)
    {
        if (pin is not { Length: >= 4 and <= 12 } || !pin.All(char.IsAsciiDigit))
        {
            throw new ArgumentException($"the PIN of device '{deviceId}' must be 4 to 12 digits", nameof(pin));
        }

        var salt = RandomNumberGenerator.GetBytes(16);
        _pins[deviceId] = (salt, Hash(pin, salt));
    }

    public bool VerifyPin(string deviceId, string pin) =>
        _pins.TryGetValue(deviceId, out var stored)
        && CryptographicOperations.FixedTimeEquals(stored.Hash, Hash(pin, stored.Salt));

    private static byte[] Hash(string pin, byte[] salt) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(pin), salt, Iterations, HashAlgorithmName.SHA256, 32);
}
