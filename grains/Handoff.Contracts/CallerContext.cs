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

    /// <summary>
    /// Request-context key of the <see cref="VerifiedCaller"/> (set by the hub's filter only). One entry, not one
    /// per field: Orleans copies the request context on every change, and the filter runs on every call.
    /// </summary>
    public const string CallerKey = "handoff.caller";

    /// <summary>The verified calling household, or null for calls that start inside the hub.</summary>
    public static string? Household => Caller?.Household;

    /// <summary>The verified calling device, or null for calls that start inside the hub.</summary>
    public static string? Device => Caller?.Device;

    /// <summary>True when the hub's filter verified that a hub silo itself made this call.</summary>
    public static bool FromAuthority => Caller?.FromAuthority == true;

    private static VerifiedCaller? Caller => RequestContext.Get(CallerKey) as VerifiedCaller;

    /// <summary>Sends <paramref name="token"/> with the calls made from here on (in this async flow).</summary>
    public static void UseSession(string token) => RequestContext.Set(SessionKey, token);

    /// <summary>True unless the verified caller belongs to a household other than <paramref name="householdId"/>.</summary>
    public static bool MayAccess(string householdId) => Household is not { } caller || caller == householdId;

    /// <summary>True when the verified caller is <paramref name="deviceId"/>, or the hub itself.</summary>
    public static bool IsDeviceOrAuthority(string deviceId) => Device is not { } caller || caller == deviceId;
}

/// <summary>
/// Who the hub's call filter found calling: the household and device of a session credential it verified (null
/// when the call carries none), and whether a hub silo itself made the call.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.VerifiedCaller")]
public sealed record VerifiedCaller(
    [property: Id(0)] string? Household,
    [property: Id(1)] string? Device,
    [property: Id(2)] bool FromAuthority);
