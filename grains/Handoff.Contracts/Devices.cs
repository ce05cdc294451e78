namespace Handoff.Contracts;

/// <summary>The kind of hardware a device is.</summary>
[GenerateSerializer, Alias("handoff.DeviceKind")]
public enum DeviceKind
{
    Phone = 0,
    Watch = 1,
    Tv = 2,
    Tablet = 3,
    Car = 4,
    Other = 5,
}

/// <summary>What a device does in a handoff.</summary>
[GenerateSerializer, Alias("handoff.DeviceRole")]
public enum DeviceRole
{
    Initiator = 0,
    Payer = 1,
}

/// <summary>How a person proves presence on a payer device.</summary>
[GenerateSerializer, Alias("handoff.AuthMethod")]
public enum AuthMethod
{
    Pin = 0,

    /// <summary>
    /// The device's platform authenticator (fingerprint, face) verified the person: a WebAuthn assertion of the
    /// credential the device registered, with user verification, over the transaction itself.
    /// </summary>
    Biometric = 1,
}

/// <summary>What a device can do.</summary>
[GenerateSerializer, Immutable, Alias("handoff.DeviceCapabilities")]
public sealed record DeviceCapabilities(
    [property: Id(0)] bool CanPay,
    [property: Id(1)] bool DistributedScheduling,
    [property: Id(2)] IReadOnlyList<AuthMethod> AuthMethods)
{
    public static DeviceCapabilities Payer { get; } = new(true, true, [AuthMethod.Pin]);

    public static DeviceCapabilities Initiator { get; } = new(false, false, []);
}

/// <summary>What a device tells the household about itself when it joins.</summary>
[GenerateSerializer, Immutable, Alias("handoff.DeviceRegistration")]
public sealed record DeviceRegistration(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string HouseholdId,
    [property: Id(2)] string DisplayName,
    [property: Id(3)] DeviceKind Kind,
    [property: Id(4)] DeviceRole Role,
    [property: Id(5)] DeviceCapabilities Capabilities);

/// <summary>A device as the household sees it, with its presence.</summary>
[GenerateSerializer, Immutable, Alias("handoff.DeviceStatus")]
public sealed record DeviceStatus(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string HouseholdId,
    [property: Id(2)] string DisplayName,
    [property: Id(3)] DeviceKind Kind,
    [property: Id(4)] DeviceRole Role,
    [property: Id(5)] DeviceCapabilities Capabilities,
    [property: Id(6)] bool Online,
    [property: Id(7)] DateTimeOffset RegisteredAt,
    [property: Id(8)] byte[]? PublicKey = null);

/// <summary>A one-time code that lets one new device join a household.</summary>
[GenerateSerializer, Immutable, Alias("handoff.PairingCode")]
public sealed record PairingCode([property: Id(0)] string Code, [property: Id(1)] DateTimeOffset ExpiresAt, [property: Id(2)] int Tries);
