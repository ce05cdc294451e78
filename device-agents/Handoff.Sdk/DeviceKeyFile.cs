using System.Security.Cryptography;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Sdk;

/// <summary>
/// A device's private key on its own disk: <c>{folder}/{deviceId}.key</c>, PEM PKCS#8, readable by its
/// owner alone. The key is made at pairing and never leaves the device; only its public half is sent.
/// </summary>
public static class DeviceKeyFile
{
    public const string DefaultFolder = ".handoff/keys";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static string PathOf(string folder, string deviceId) => Path.Combine(folder, $"{DeviceIds.Require(deviceId, "device")}.key");

    public static bool Exists(string folder, string deviceId) => File.Exists(PathOf(folder, deviceId));

    /// <summary>Makes a new key pair and saves the private key, refusing to overwrite an existing one.</summary>
    public static ECDsa Create(string folder, string deviceId)
    {
        var path = PathOf(folder, deviceId);
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var key = Signing.NewKey();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        try
        {
            using var file = new StreamWriter(path, System.Text.Encoding.ASCII, options);
            file.Write(key.ExportPkcs8PrivateKeyPem());
        }
        catch (IOException exists) when (File.Exists(path))
        {
            key.Dispose();
            throw new ConflictException($"device '{deviceId}' already has a key at {path}: {exists.Message}");
        }

        return key;
    }

    /// <summary>Loads the device's key; refuses a key file that others can read.</summary>
    public static ECDsa Load(string folder, string deviceId)
    {
        var path = PathOf(folder, deviceId);
        if (!File.Exists(path))
        {
            throw new NotFoundException($"device '{deviceId}' has no key in {Path.GetFullPath(folder)} (no {deviceId}.key): pair it first (--pair CODE), or give the folder that has its key with --keys, HANDOFF_KEYS or HANDOFF_DATA");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerOnly) != 0)
        {
            throw new ForbiddenException($"the key file {path} is readable by others; make it private (chmod 600) and try again");
        }

        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(path));
        return key;
    }
}
