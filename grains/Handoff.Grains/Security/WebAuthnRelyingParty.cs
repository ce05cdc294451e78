using System.Buffers.Text;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Security;

/// <summary>A platform credential as the household keeps it with its device.</summary>
[GenerateSerializer, Alias("handoff.WebAuthnCredentialRecord")]
public sealed class WebAuthnCredentialRecord
{
    [Id(0)]
    public byte[] CredentialId { get; set; } = [];

    /// <summary>The credential's public key, COSE-encoded, as the authenticator gave it at registration.</summary>
    [Id(1)]
    public byte[] PublicKey { get; set; } = [];

    /// <summary>The highest signature counter seen: every later assertion must carry a higher one.</summary>
    [Id(2)]
    public uint SignCount { get; set; }

    /// <summary>The payer page the credential was made on (http://localhost:PORT): assertions must come from it.</summary>
    [Id(3)]
    public string Origin { get; set; } = string.Empty;

    /// <summary>The user handle the credential was made for; an assertion that names a user must name this one.</summary>
    [Id(4)]
    public byte[] UserHandle { get; set; } = [];

    [Id(5)]
    public DateTimeOffset RegisteredAt { get; set; }
}

/// <summary>
/// The hub as WebAuthn relying party, through the Fido2 library: the creation options of a registration, and the
/// checks of an attestation and of an assertion. Every refusal is a <see cref="ForbiddenException"/>.
/// </summary>
internal static class WebAuthnRelyingParty
{
    /// <summary>Creation options for a platform credential with user verification, ES256, no attestation.</summary>
    public static CredentialCreateOptions CreationOptions(string deviceId, string displayName, byte[] userHandle) =>
        Fido2(origin: null).RequestNewCredential(new RequestNewCredentialParams
        {
            User = new Fido2User { Id = userHandle, Name = deviceId, DisplayName = displayName },
            AuthenticatorSelection = new AuthenticatorSelection
            {
                AuthenticatorAttachment = AuthenticatorAttachment.Platform,
                ResidentKey = ResidentKeyRequirement.Discouraged,
                UserVerification = UserVerificationRequirement.Required,
            },
            AttestationPreference = AttestationConveyancePreference.None,
            PubKeyCredParams = [PubKeyCredParam.ES256],
        });

    /// <summary>The credential of <paramref name="attestation"/>, once it answers <paramref name="options"/> from <paramref name="origin"/>.</summary>
    public static async Task<WebAuthnCredentialRecord> VerifyAttestationAsync(CredentialCreateOptions options, string origin, WebAuthnAttestation attestation, DateTimeOffset now)
    {
        if (!WebAuthn.Bounded(attestation.CredentialId, attestation.ClientDataJson, attestation.AttestationObject))
        {
            throw Refused("the attestation is incomplete or too large");
        }

        var raw = new AuthenticatorAttestationRawResponse
        {
            Id = Base64Url.EncodeToString(attestation.CredentialId),
            RawId = attestation.CredentialId,
            Type = PublicKeyCredentialType.PublicKey,
            Response = new AuthenticatorAttestationRawResponse.AttestationResponse
            {
                AttestationObject = attestation.AttestationObject,
                ClientDataJson = attestation.ClientDataJson,
                Transports = [],
            },
            ClientExtensionResults = new AuthenticationExtensionsClientOutputs(),
        };

        RegisteredPublicKeyCredential credential;
        try
        {
            // One credential per device: a credential id another device uses is harmless, its key is not that device's.
            credential = await Fido2(origin).MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = raw,
                OriginalOptions = options,
                IsCredentialIdUniqueToUserCallback = static (_, _) => Task.FromResult(true),
            });
        }
        catch (Exception exception) when (Malformed(exception))
        {
            throw Refused($"the attestation does not verify: {exception.Message}");
        }

        if (!credential.Id.AsSpan().SequenceEqual(attestation.CredentialId))
        {
            throw Refused("the attestation names another credential than its authenticator data");
        }

        return new WebAuthnCredentialRecord
        {
            CredentialId = credential.Id,
            PublicKey = credential.PublicKey,
            SignCount = credential.SignCount,
            Origin = origin,
            UserHandle = options.User.Id,
            RegisteredAt = now,
        };
    }

    /// <summary>
    /// The new signature counter, once <paramref name="assertion"/> is the credential's, over
    /// <paramref name="challenge"/>, from its page, with the person verified, and counted above the last one.
    /// </summary>
    public static async Task<uint> VerifyAssertionAsync(WebAuthnCredentialRecord credential, WebAuthnAssertion assertion, byte[] challenge)
    {
        if (!WebAuthn.Bounded(assertion.CredentialId, assertion.ClientDataJson, assertion.AuthenticatorData, assertion.Signature)
            || assertion.UserHandle is { Length: > WebAuthn.MaxFieldLength })
        {
            throw Refused("the assertion is incomplete or too large");
        }

        if (!assertion.CredentialId.AsSpan().SequenceEqual(credential.CredentialId))
        {
            throw Refused("the assertion is not of the device's registered credential");
        }

        var raw = new AuthenticatorAssertionRawResponse
        {
            Id = Base64Url.EncodeToString(assertion.CredentialId),
            RawId = assertion.CredentialId,
            Type = PublicKeyCredentialType.PublicKey,
            Response = new AuthenticatorAssertionRawResponse.AssertionResponse
            {
                AuthenticatorData = assertion.AuthenticatorData,
                ClientDataJson = assertion.ClientDataJson,
                Signature = assertion.Signature,
                UserHandle = assertion.UserHandle,
            },
            ClientExtensionResults = new AuthenticationExtensionsClientOutputs(),
        };
        var fido2 = Fido2(credential.Origin);
        var options = AssertionOptions.Create(
            Configuration(credential.Origin),
            challenge,
            [new PublicKeyCredentialDescriptor(credential.CredentialId)],
            UserVerificationRequirement.Required,
            extensions: null);

        VerifyAssertionResult result;
        try
        {
            result = await fido2.MakeAssertionAsync(new MakeAssertionParams
            {
                AssertionResponse = raw,
                OriginalOptions = options,
                StoredPublicKey = credential.PublicKey,
                StoredSignatureCounter = credential.SignCount,
                IsUserHandleOwnerOfCredentialIdCallback = (owner, _) => Task.FromResult(owner.UserHandle.AsSpan().SequenceEqual(credential.UserHandle)),
            });
        }
        catch (Exception exception) when (Malformed(exception))
        {
            throw Refused($"the assertion does not verify: {exception.Message}");
        }

        // Fido2 lets a counter of 0 pass (authenticators that keep none); this household requires it to grow, always:
        // an assertion seen before, or made by a copy of the credential, is never taken again.
        if (result.SignCount <= credential.SignCount)
        {
            throw Refused($"the authenticator's signature counter did not grow ({result.SignCount} after {credential.SignCount})");
        }

        return result.SignCount;
    }

    private static Fido2 Fido2(string? origin) => new(Configuration(origin));

    private static Fido2Configuration Configuration(string? origin) => new()
    {
        RPID = WebAuthn.RelyingPartyId,
        RPName = WebAuthn.RelyingPartyName,
        Origins = origin is null ? new HashSet<string>() : new HashSet<string>(StringComparer.Ordinal) { origin },
        Timeout = (uint)WebAuthn.CeremonyTimeout.TotalMilliseconds,
    };

    // Whatever a malformed or forged response makes the library throw (its own verification errors, CBOR, JSON,
    // base64, key import) is a refusal of that response, never a fault of the hub.
    private static bool Malformed(Exception exception) => exception is not (OutOfMemoryException or OperationCanceledException or HandoffException);

    private static ForbiddenException Refused(string reason) => new($"biometric: {reason}");
}
