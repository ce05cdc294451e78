namespace Handoff.Contracts;

/// <summary>
/// Who is calling, carried in Orleans' request context through every grain call a caller causes.
/// A caller sends only its session credential (<see cref="Session"/>); the household and device below
/// are set by the hub's call filter from a credential it verified, and anything a caller writes there
/// itself is thrown away before a grain sees it.
/// </summary>
public static class CallerContext
{
    /// <summary>Request-context key of the caller's session token.</summary>
    public const string SessionKey = "handoff.session";

    /// <summary>Request-context key of the token a hub silo puts on the calls it makes itself.</summary>
    public const string AuthorityKey = "handoff.authority";

    /// <summary>Request-context key of the verified household (set by the hub's filter only).</summary>
    public const string HouseholdKey = "handoff.household";

    /// <summary>Request-context key of the verified device (set by the hub's filter only).</summary>
    public const string DeviceKey = "handoff.device";

    /// <summary>Request-context key that the hub's filter sets when the payment's authority itself is calling.</summary>
    public const string FromAuthorityKey = "handoff.from-authority";

    /// <summary>The verified calling household, or null for calls that start inside the hub.</summary>
    public static string? Household => RequestContext.Get(HouseholdKey) as string;

    /// <summary>The verified calling device, or null for calls that start inside the hub.</summary>
    public static string? Device => RequestContext.Get(DeviceKey) as string;

    /// <summary>True when the hub's filter verified that a hub silo itself made this call.</summary>
    public static bool FromAuthority => RequestContext.Get(FromAuthorityKey) is true;

    /// <summary>Sends <paramref name="token"/> with the calls made from here on (in this async flow).</summary>
    public static void UseSession(string token) => RequestContext.Set(SessionKey, token);

    /// <summary>True unless the verified caller belongs to a household other than <paramref name="householdId"/>.</summary>
    public static bool MayAccess(string householdId) => Household is not { } caller || caller == householdId;

    /// <summary>True when the verified caller is <paramref name="deviceId"/>, or the hub itself.</summary>
    public static bool IsDeviceOrAuthority(string deviceId) => Device is not { } caller || caller == deviceId;
}
