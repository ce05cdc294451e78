using Handoff.Contracts;
using Handoff.Grains.Payer;
using Handoff.Sdk.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Handoff.PayerAgent;

/// <summary>The payer device's local API on 127.0.0.1: what its UI (or <c>handoff approve</c>) calls.</summary>
internal static class PayerApi
{
    public static void MapPayerApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", (PayerAgentSettings settings) =>
            Results.Json(new { status = "ok", role = "payer", devices = settings.Devices.Select(device => device.Id) }, HandoffJson.Options));

        app.MapGet("/api/offers", (PaymentSheetBoard board) =>
            Results.Json(board.OnScreen.Select(OfferView.From), HandoffJson.Options));

        // The person's verification, in this process only: PayerVerification is not reachable from the cluster.
        app.MapPost("/api/offers/{paymentId}/approve", async (string paymentId, ApproveBody? body, PayerVerification verification) =>
        {
            if (body?.Pin is not { Length: > 0 } pin)
            {
                return Error(StatusCodes.Status400BadRequest, ErrorCodes.Validation, "pin: is required");
            }

            return await VerifyAsync(() => verification.ApproveWithPinAsync(paymentId, pin, body.Program));
        });

        // The biometric approval: the platform authenticator's assertion over the transaction (see WebAuthnApi).
        app.MapPost("/api/offers/{paymentId}/approve-webauthn", async (string paymentId, CredentialBody? body, PayerVerification verification) =>
        {
            if (body?.Assertion() is not { } assertion)
            {
                return Error(StatusCodes.Status400BadRequest, ErrorCodes.Validation, "assertion: the PublicKeyCredential of navigator.credentials.get is required (base64url fields)");
            }

            return await VerifyAsync(() => verification.ApproveWithWebAuthnAsync(paymentId, assertion, body.Program));
        });

        // What the sheet lists for the person to pick from: the device's programs in the payment's currency, with what is left.
        app.MapGet("/api/offers/{paymentId}/programs", async (string paymentId, PayerVerification verification) =>
        {
            try
            {
                return await verification.ProgramsAsync(paymentId) is { } programs
                    ? Results.Json(programs.Select(ProgramView.From), HandoffJson.Options)
                    : Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "that payment is not on this device's sheet");
            }
            catch (HandoffException refused)
            {
                return Error(StatusCodes.Status409Conflict, refused.Code, refused.Message);
            }
        });

        app.MapPost("/api/offers/{paymentId}/decline", (string paymentId, PayerVerification verification) =>
            VerifyAsync(() => verification.DeclineAsync(paymentId)));
    }

    internal static async Task<IResult> VerifyAsync(Func<Task<VerificationResult>> act)
    {
        try
        {
            var result = await act();
            if (result is { Outcome: VerificationOutcome.NotPending, Payment: null })
            {
                return Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "that payment is not on this device's sheet, and none of its devices knows it");
            }

            return Results.Json(VerificationView.From(result), HandoffJson.Options);
        }
        catch (ValidationException invalid)
        {
            return Error(StatusCodes.Status400BadRequest, invalid.Code, invalid.Message);
        }
        catch (HandoffException refused)
        {
            return Error(StatusCodes.Status409Conflict, refused.Code, refused.Message);
        }
    }

    internal static IResult Error(int status, string code, string message) =>
        Results.Json(ErrorView.Of(code, message), HandoffJson.Options, statusCode: status);
}
