namespace Handoff.Contracts;

/// <summary>
/// Who is calling, carried in Orleans' request context from the SDK through every grain call it causes.
/// Grains refuse a caller of another household as if the thing asked for did not exist.
/// </summary>
public static class CallerContext
{
    private const string HouseholdKey = "handoff.household";
    private const string DeviceKey = "handoff.device";

    /// <summary>The calling household, or null for calls that start inside the cluster.</summary>
    public static string? Household => RequestContext.Get(HouseholdKey) as string;

    /// <summary>The calling device, or null for calls that start inside the cluster.</summary>
    public static string? Device => RequestContext.Get(DeviceKey) as string;

    /// <summary>Stamps the calls made from here on (in this async flow) as coming from this device.</summary>
    public static void Set(string householdId, string deviceId)
    {
        RequestContext.Set(HouseholdKey, householdId);
        RequestContext.Set(DeviceKey, deviceId);
    }

    /// <summary>True unless the caller names a household other than <paramref name="householdId"/>.</summary>
    public static bool MayAccess(string householdId) => Household is not { } caller || caller == householdId;
}
