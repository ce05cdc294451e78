using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Fido2NetLib;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Security;

/// <summary>
/// The platform-credential registrations a device has begun and not yet completed: each counts once, for two minutes,
/// and a device holds only a few, so ceremonies begun and never completed cannot grow its grain.
/// </summary>
internal sealed class WebAuthnCeremonies
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    // A person registers one credential at a time; a few open ceremonies cover a page opened twice.
    private const int MaxOpen = 4;

    private readonly Dictionary<string, Pending> _open = new(StringComparer.Ordinal);

    /// <summary>Begins a registration for the page at <paramref name="origin"/>; returns the options the page passes to the browser.</summary>
    public string Begin(DeviceRegistration registration, string origin, DateTimeOffset now)
    {
        if (!WebAuthn.IsOrigin(origin))
        {
            throw new ValidationException("origin", $"'{origin}' is not a payer page's origin: http://localhost:PORT", ErrorCodes.Validation);
        }

        foreach (var stale in _open.Where(pending => pending.Value.ExpiresAt <= now).Select(pending => pending.Key).ToList())
        {
            _open.Remove(stale);
        }

        if (_open.Count >= MaxOpen)
        {
            _open.Remove(_open.MinBy(pending => pending.Value.ExpiresAt).Key);
        }

        var creation = WebAuthnRelyingParty.CreationOptions(registration.DeviceId, registration.DisplayName, RandomNumberGenerator.GetBytes(16));
        _open[Base64Url.EncodeToString(creation.Challenge)] = new Pending(creation, origin, now + Lifetime);
        return creation.ToJson();
    }

    /// <summary>Checks an attestation against the ceremony its challenge began, which it ends whatever the outcome.</summary>
    public Task<WebAuthnCredentialRecord> CompleteAsync(DeviceRegistration registration, WebAuthnAttestation attestation, DateTimeOffset now)
    {
        if (ChallengeOf(attestation.ClientDataJson) is not { } challenge
            || !_open.Remove(challenge, out var pending)
            || pending.ExpiresAt <= now)
        {
            throw new ForbiddenException($"biometric: no registration of device '{registration.DeviceId}' is waiting for that challenge (begin again)");
        }

        return WebAuthnRelyingParty.VerifyAttestationAsync(pending.Options, pending.Origin, attestation, now);
    }

    /// <summary>The challenge the client data carries (base64url, as the browser wrote it), or null when it carries none.</summary>
    private static string? ChallengeOf(byte[]? clientDataJson)
    {
        if (clientDataJson is not { Length: > 0 and <= WebAuthn.MaxFieldLength })
        {
            return null;
        }

        try
        {
            using var clientData = JsonDocument.Parse(clientDataJson);
            return clientData.RootElement.ValueKind == JsonValueKind.Object
                && clientData.RootElement.TryGetProperty("challenge", out var challenge)
                && challenge.ValueKind == JsonValueKind.String
                    ? challenge.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Pending(CredentialCreateOptions Options, string Origin, DateTimeOffset ExpiresAt);
}
