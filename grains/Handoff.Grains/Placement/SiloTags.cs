namespace Handoff.Grains.Placement;

/// <summary>The silo metadata keys a household's silos carry, and how to read them.</summary>
public static class SiloTags
{
    /// <summary>Metadata key: <c>hub</c> or <c>payer</c>.</summary>
    public const string Role = "handoff-role";

    /// <summary>Metadata key: comma-separated ids of the payer devices this silo carries.</summary>
    public const string Devices = "handoff-devices";

    public const string HubRole = "hub";

    public const string PayerRole = "payer";

    public static string JoinDevices(IEnumerable<string> deviceIds) => string.Join(',', deviceIds);

    public static bool CarriesDevice(IReadOnlyDictionary<string, string> metadata, string deviceId)
    {
        if (!metadata.TryGetValue(Devices, out var devices))
        {
            return false;
        }

        foreach (var range in devices.AsSpan().Split(','))
        {
            if (devices.AsSpan()[range].Trim().SequenceEqual(deviceId))
            {
                return true;
            }
        }

        return false;
    }
}
