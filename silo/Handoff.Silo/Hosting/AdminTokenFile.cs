using System.Security.Cryptography;

namespace Handoff.Silo.Hosting;

/// <summary>
/// The hub's admin token in its data folder (<c>admin.token</c>, readable by the owner alone): whoever can
/// read it on the hub machine can issue pairing codes and remove devices. A cluster's hubs share one
/// through the <c>Handoff:AdminToken</c> setting instead.
/// </summary>
public static class AdminTokenFile
{
    public const string FileName = "admin.token";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    public static string LoadOrCreate(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (File.Exists(path))
        {
            return Read(dataDirectory);
        }

        Directory.CreateDirectory(dataDirectory);
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var file = new StreamWriter(path, System.Text.Encoding.ASCII, options);
            file.Write(token);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another hub on this machine made it first: share that one.
            return Read(dataDirectory);
        }

        return token;
    }

    public static string Read(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        return File.Exists(path)
            ? File.ReadAllText(path).Trim()
            : throw new FileNotFoundException($"no admin token in {Path.GetFullPath(dataDirectory)} (no {FileName}): run this on the hub machine, or give the hub's data folder with --data or HANDOFF_DATA (or the token in HANDOFF_ADMIN_TOKEN)");
    }
}
