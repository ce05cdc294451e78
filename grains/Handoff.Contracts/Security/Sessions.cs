namespace Handoff.Contracts.Security;

/// <summary>
/// Marks a grain method that a caller may reach without a session credential, because it proves itself
/// through its own arguments (a pairing code, the hub's admin token, a device-key signature) or opens the
/// session itself. Every other method of a household grain refuses a caller without a valid credential.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class NoSessionAttribute : Attribute
{
}

/// <summary>
/// Marks a grain method that only the payment's authority (the household's hub silos) may call: no
/// client and no device, whatever it writes into the request context.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class AuthorityOnlyAttribute : Attribute
{
}

/// <summary>
/// Marks a grain interface that only silos of the household reach (their runtime services, such as a payer silo's
/// reminder service), never a client on a gateway, whatever session it holds: a TV with a real session must not
/// read or remove the hub's reminders, which drive payment deadlines and recovery.
/// </summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false)]
public sealed class SilosOnlyAttribute : Attribute
{
}

/// <summary>A device's proof that it holds its key: its signature over a challenge the hub just gave it.</summary>
[GenerateSerializer, Immutable, Alias("handoff.SessionProof")]
public sealed record SessionProof(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string Challenge,
    [property: Id(2)] byte[] Signature);

/// <summary>A session credential: an opaque token the caller sends with every call, and until when it counts.</summary>
[GenerateSerializer, Immutable, Alias("handoff.SessionGrant")]
public sealed record SessionGrant(
    [property: Id(0)] string Token,
    [property: Id(1)] string HouseholdId,
    [property: Id(2)] string DeviceId,
    [property: Id(3)] DateTimeOffset ExpiresAt);
