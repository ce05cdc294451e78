namespace Handoff.Sdk;

/// <summary>
/// Where this machine keeps the household's files (the hub's store and admin token, the devices' keys):
/// <c>HANDOFF_DATA</c> when set; otherwise the nearest <c>.handoff/</c> folder in the current folder or above it,
/// so that every folder of a checkout finds the one <c>./handoff up</c> made at its root; otherwise
/// <c>.handoff/</c> in the current folder, where a first hub makes it.
/// </summary>
public static class DataFolder
{
    public const string Name = ".handoff";

    public const string Variable = "HANDOFF_DATA";

    /// <summary>The device keys' folder in a data folder.</summary>
    public const string KeysName = "keys";

    /// <summary>The data folder, as an absolute path.</summary>
    public static string Resolve() => Resolve(Environment.GetEnvironmentVariable(Variable), Directory.GetCurrentDirectory());

    /// <summary>The data folder for a <c>HANDOFF_DATA</c> value (or none) seen from <paramref name="start"/>.</summary>
    public static string Resolve(string? configured, string start)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured, start);
        }

        for (var folder = new DirectoryInfo(Path.GetFullPath(start)); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, Name);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine(Path.GetFullPath(start), Name);
    }

    /// <summary>The device keys' folder: <c>HANDOFF_KEYS</c> when set, else <c>keys/</c> in the data folder.</summary>
    public static string ResolveKeys() =>
        Environment.GetEnvironmentVariable("HANDOFF_KEYS") is { Length: > 0 } keys
            ? Path.GetFullPath(keys)
            : Path.Combine(Resolve(), KeysName);
}
