using System.Buffers.Text;
using System.Text;
using System.Text.Json.Serialization;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;
using Handoff.Sdk.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Handoff.PayerAgent;

/// <summary>
/// The sheet page's WebAuthn calls: registering the device's platform credential (the hub makes the options and
/// checks the attestation, as the device) and the request options of a biometric approval of one offer.
/// </summary>
internal static class WebAuthnApi
{
    public static void MapWebAuthnApi(this IEndpointRouteBuilder app)
    {
        // Which devices have a credential, and the one origin the page must be opened at for the authenticator to answer.
        app.MapGet("/api/webauthn", async (PayerAgentSettings settings, PlatformCredentials credentials) =>
        {
            var devices = new List<WebAuthnDeviceView>();
            foreach (var device in settings.Devices)
            {
                devices.Add(new WebAuthnDeviceView(device.Id, device.DisplayName, await RegisteredAsync(credentials, device.Id)));
            }

            return Results.Json(new WebAuthnStatusView(OriginOf(settings), WebAuthn.RelyingPartyId, devices), HandoffJson.Options);
        });

        app.MapPost("/api/webauthn/register/options", async (DeviceBody? body, PayerAgentSettings settings, PlatformCredentials credentials) =>
        {
            if (DeviceOf(settings, body?.Device) is not { } deviceId)
            {
                return PayerApi.Error(StatusCodes.Status400BadRequest, ErrorCodes.Validation, "device: name one of this agent's devices");
            }

            return await RefusalsAsync(async () => Results.Text(await credentials.BeginAsync(deviceId, OriginOf(settings)), "application/json"));
        });

        app.MapPost("/api/webauthn/register", async (CredentialBody? body, PayerAgentSettings settings, PlatformCredentials credentials) =>
        {
            if (DeviceOf(settings, body?.Device) is not { } deviceId)
            {
                return PayerApi.Error(StatusCodes.Status400BadRequest, ErrorCodes.Validation, "device: name one of this agent's devices");
            }

            if (body!.Attestation() is not { } attestation)
            {
                return PayerApi.Error(StatusCodes.Status400BadRequest, ErrorCodes.Validation, "attestation: the PublicKeyCredential of navigator.credentials.create is required (base64url fields)");
            }

            return await RefusalsAsync(async () => Results.Json(DeviceView.From(await credentials.CompleteAsync(deviceId, attestation)), HandoffJson.Options));
        });

        // The challenge is the transaction itself (SHA-256 of the statement the device key signs), made here from the
        // offer the authority put on this sheet; the page only carries it to the authenticator. The statement comes
        // along so the page (or anyone) can check what the challenge binds: knowing it approves nothing without the
        // device key and the registered authenticator, and the authority hashes its own record, never this text.
        app.MapPost("/api/offers/{paymentId}/webauthn-options", async (string paymentId, ProgramBody? body, PayerVerification verification) =>
            await RefusalsAsync(async () =>
            {
                var request = await verification.WebAuthnRequestAsync(paymentId, body?.Program);
                if (request is null)
                {
                    return PayerApi.Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "that payment is not on this device's sheet");
                }

                if (request.CredentialId is not { } credentialId)
                {
                    return PayerApi.Error(StatusCodes.Status409Conflict, ErrorCodes.NotCapable, $"device '{request.DeviceId}' has no fingerprint set up: set it up on this page first");
                }

                return Results.Json(
                    new AssertionOptionsView(
                        Encoding.UTF8.GetString(request.Statement),
                        Base64Url.EncodeToString(request.Challenge),
                        WebAuthn.RelyingPartyId,
                        [new CredentialDescriptorView("public-key", Base64Url.EncodeToString(credentialId), ["internal"])],
                        "required",
                        (long)WebAuthn.CeremonyTimeout.TotalMilliseconds,
                        request.ProgramId),
                    HandoffJson.Options);
            }));
    }

    /// <summary>The origin this agent's page has at http://localhost: what it states to the hub when registering.</summary>
    internal static string OriginOf(PayerAgentSettings settings) => WebAuthn.OriginFor(settings.HttpPort);

    private static string? DeviceOf(PayerAgentSettings settings, string? requested) =>
        requested is null
            ? settings.Devices.Count == 1 ? settings.Devices[0].Id : null
            : settings.Devices.FirstOrDefault(device => device.Id == requested)?.Id;

    private static async Task<bool> RegisteredAsync(PlatformCredentials credentials, string deviceId)
    {
        try
        {
            return await credentials.GetAsync(deviceId) is not null;
        }
        catch (HandoffException)
        {
            // Not paired yet, or the hub is away: nothing registered that this page can use now.
            return false;
        }
    }

    private static async Task<IResult> RefusalsAsync(Func<Task<IResult>> act)
    {
        try
        {
            return await act();
        }
        catch (ValidationException invalid)
        {
            return PayerApi.Error(StatusCodes.Status400BadRequest, invalid.Code, invalid.Message);
        }
        catch (HandoffException refused)
        {
            return PayerApi.Error(StatusCodes.Status409Conflict, refused.Code, refused.Message);
        }
    }
}

/// <summary>A request naming one of the agent's devices (optional when it carries one).</summary>
internal sealed record DeviceBody(string? Device);

/// <summary>A PublicKeyCredential as the page posts it: the WebAuthn JSON shape, every binary field base64url.</summary>
internal sealed record CredentialBody(string? Device, string? Id, string? RawId, string? Type, CredentialResponseBody? Response, string? Program = null)
{
    public WebAuthnAttestation? Attestation() =>
        Type == "public-key" && Decode(RawId) is { } id && Decode(Response?.ClientDataJson) is { } clientData && Decode(Response?.AttestationObject) is { } attestation
            ? new WebAuthnAttestation(id, clientData, attestation)
            : null;

    public WebAuthnAssertion? Assertion() =>
        Type == "public-key"
        && Decode(RawId) is { } id
        && Decode(Response?.ClientDataJson) is { } clientData
        && Decode(Response?.AuthenticatorData) is { } authenticatorData
        && Decode(Response?.Signature) is { } signature
            ? new WebAuthnAssertion(id, clientData, authenticatorData, signature, Decode(Response?.UserHandle))
            : null;

    private static byte[]? Decode(string? base64Url)
    {
        if (string.IsNullOrEmpty(base64Url) || base64Url.Length > WebAuthn.MaxFieldLength * 2)
        {
            return null;
        }

        try
        {
            return Base64Url.DecodeFromChars(base64Url);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

internal sealed record CredentialResponseBody(
    [property: JsonPropertyName("clientDataJSON")] string? ClientDataJson,
    [property: JsonPropertyName("attestationObject")] string? AttestationObject,
    [property: JsonPropertyName("authenticatorData")] string? AuthenticatorData,
    [property: JsonPropertyName("signature")] string? Signature,
    [property: JsonPropertyName("userHandle")] string? UserHandle);

/// <summary>The options of <c>navigator.credentials.get</c> for one offer (PublicKeyCredentialRequestOptions, base64url), with the statement its challenge hashes.</summary>
/// <param name="Program">The payment program the challenge covers: the approval must send it back.</param>
internal sealed record AssertionOptionsView(string Statement, string Challenge, string RpId, IReadOnlyList<CredentialDescriptorView> AllowCredentials, string UserVerification, long Timeout, string? Program);

/// <summary>The payment program a biometric approval is to pay with (none: the device's default).</summary>
internal sealed record ProgramBody(string? Program);

internal sealed record CredentialDescriptorView(string Type, string Id, IReadOnlyList<string> Transports);

internal sealed record WebAuthnDeviceView(string Id, string DisplayName, bool Registered);

internal sealed record WebAuthnStatusView(string Origin, string RpId, IReadOnlyList<WebAuthnDeviceView> Devices);
