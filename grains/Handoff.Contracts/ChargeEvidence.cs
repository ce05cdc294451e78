using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>
/// What authorized one ledger movement, kept in its journal row so that it can be checked from the row alone: for a
/// payment's charge the initiator's signed request and the approval (a payer's, or a guardian's naming that request),
/// for a refund the initiator's signed refund, each with its signer's key as the authority verified it; for a top-up
/// or a budget's refill, which no device signs, who moved the money (<see cref="Basis"/>).
/// </summary>
/// <remarks>Equal when the basis and every statement, signature and key are equal byte for byte.</remarks>
[GenerateSerializer, Immutable, Alias("handoff.ChargeEvidence")]
public sealed record ChargeEvidence(
    [property: Id(0)] int Version,
    [property: Id(1)] EvidenceBasis Basis,
    [property: Id(2)] IReadOnlyList<SignedStatement> Signed)
{
    /// <summary>The version this build writes (and the only one it reads).</summary>
    public const int CurrentVersion = 1;

    /// <summary>A top-up: the administrator moved money in with the hub's admin token.</summary>
    public static ChargeEvidence TopUp { get; } = new(CurrentVersion, EvidenceBasis.AdminToken, []);

    /// <summary>A budget's refill: the household's rules moved a member's monthly budget from its program.</summary>
    public static ChargeEvidence Refill { get; } = new(CurrentVersion, EvidenceBasis.HouseholdRules, []);

    /// <summary>Evidence of these signed statements.</summary>
    public static ChargeEvidence Of(params SignedStatement[] signed) => new(CurrentVersion, EvidenceBasis.Signatures, signed);

    public bool Equals(ChargeEvidence? other) =>
        other is not null && Version == other.Version && Basis == other.Basis && Signed.SequenceEqual(other.Signed);

    public override int GetHashCode() => HashCode.Combine(Version, Basis, Signed.Count);
}

/// <summary>Who authorized a ledger movement.</summary>
[GenerateSerializer, Alias("handoff.EvidenceBasis")]
public enum EvidenceBasis
{
    /// <summary>Devices' signed statements (<see cref="ChargeEvidence.Signed"/>).</summary>
    Signatures = 0,

    /// <summary>The hub's administrator, with its admin token (a top-up): no device signs it.</summary>
    AdminToken = 1,

    /// <summary>The household's rules (a budget's monthly refill): no device signs it.</summary>
    HouseholdRules = 2,
}

/// <summary>
/// A statement as a device signed it: the exact bytes (<see cref="Signing"/>'s, UTF-8), the device's ECDSA P-256 signature
/// over them and the device's public key (DER SubjectPublicKeyInfo) as it was when the authority verified the signature.
/// </summary>
/// <remarks>Equal when all three are equal byte for byte.</remarks>
[GenerateSerializer, Immutable, Alias("handoff.SignedStatement")]
public sealed record SignedStatement(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] byte[] Statement,
    [property: Id(2)] byte[] Signature,
    [property: Id(3)] byte[] PublicKey)
{
    /// <summary>True when <see cref="Signature"/> is <see cref="PublicKey"/>'s over <see cref="Statement"/>.</summary>
    public bool Verifies => Signing.Verify(PublicKey, Statement, Signature);

    public bool Equals(SignedStatement? other) =>
        other is not null
        && DeviceId == other.DeviceId
        && Statement.AsSpan().SequenceEqual(other.Statement)
        && Signature.AsSpan().SequenceEqual(other.Signature)
        && PublicKey.AsSpan().SequenceEqual(other.PublicKey);

    public override int GetHashCode() => HashCode.Combine(DeviceId, Statement.Length, Signature.Length);
}
