using System.Text.Json;
using Handoff.Contracts;
using Handoff.Grains.Payer;
using Handoff.Sdk;
using Handoff.Silo.Hosting;

namespace Handoff.PayerAgent;

/// <summary>
/// A payer device's secrets on its own disk: the private key (<see cref="DeviceKeyFile"/>) and the PIN's
/// salted slow hash (<c>{id}.pin</c>), both readable by the owner alone. Neither ever leaves the device.
/// </summary>
public static class PayerDeviceFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// The device from its files, making its key on first use; a given <paramref name="pin"/> (re)sets the PIN hash.
    /// Without a stored PIN and without <paramref name="pin"/>, the device cannot verify anyone: refused.
    /// </summary>
    public static PayerDevice LoadOrCreate(string folder, string id, string displayName, DeviceKind kind, string? pin)
    {
        var key = DeviceKeyFile.Exists(folder, id) ? DeviceKeyFile.Load(folder, id) : DeviceKeyFile.Create(folder, id);
        var pinPath = Path.Combine(folder, $"{id}.pin");
        PinHash hash;
        if (pin is not null)
        {
            hash = PinHash.Of(pin);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            using var file = new FileStream(pinPath, options);
            JsonSerializer.Serialize(file, new StoredPin(hash.Salt, hash.Hash, PinHash.Iterations));
        }
        else if (File.Exists(pinPath))
        {
            var stored = JsonSerializer.Deserialize<StoredPin>(File.ReadAllBytes(pinPath))
                ?? throw new InvalidDataException($"the PIN file {pinPath} is empty");
            hash = new PinHash(stored.Salt, stored.Hash);
        }
        else
        {
            throw new ValidationException("pin", $"device '{id}' has no PIN yet: give one with --pin (4-12 digits)", ErrorCodes.MissingField);
        }

        return new PayerDevice(id, displayName, kind, hash, key);
    }

    private sealed record StoredPin(byte[] Salt, byte[] Hash, int Iterations);
}
