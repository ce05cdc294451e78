namespace Handoff.Contracts;

/// <summary>
/// A platform authenticator's answer to <c>navigator.credentials.create</c>, as the payer page got it (the
/// fields of its AuthenticatorAttestationResponse, decoded from base64url).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.WebAuthnAttestation")]
public sealed record WebAuthnAttestation(
    [property: Id(0)] byte[] CredentialId,
    [property: Id(1)] byte[] ClientDataJson,
    [property: Id(2)] byte[] AttestationObject);

/// <summary>
/// A platform authenticator's answer to <c>navigator.credentials.get</c>: its signature, with the person verified,
/// over the authenticator data and the client data that carries the challenge (the fields of its
/// AuthenticatorAssertionResponse, decoded from base64url).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.WebAuthnAssertion")]
public sealed record WebAuthnAssertion(
    [property: Id(0)] byte[] CredentialId,
    [property: Id(1)] byte[] ClientDataJson,
    [property: Id(2)] byte[] AuthenticatorData,
    [property: Id(3)] byte[] Signature,
    [property: Id(4)] byte[]? UserHandle = null);

/// <summary>What a payer device needs to ask its platform authenticator for an assertion: which credential, made for which page.</summary>
[GenerateSerializer, Immutable, Alias("handoff.WebAuthnCredentialInfo")]
public sealed record WebAuthnCredentialInfo(
    [property: Id(0)] byte[] CredentialId,
    [property: Id(1)] string Origin,
    [property: Id(2)] DateTimeOffset RegisteredAt);
