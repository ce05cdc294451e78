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

        app.MapPost("/api/offers/{paymentId}/approve", async (string paymentId, ApproveBody? body, PaymentSheetBoard board, IGrainFactory grains) =>
        {
            if (body?.Pin is not { Length: > 0 } pin)
            {
                return Error(StatusCodes.Status400BadRequest, ErrorCodes.Validation, "pin: is required");
            }

            return await OnDeviceAsync(paymentId, board, grains, ability => ability.ApproveWithPinAsync(paymentId, pin));
        });

        app.MapPost("/api/offers/{paymentId}/approve-biometric", (string paymentId, PaymentSheetBoard board, IGrainFactory grains) =>
            OnDeviceAsync(paymentId, board, grains, ability => ability.ApproveWithBiometricAsync(paymentId)));

        app.MapPost("/api/offers/{paymentId}/decline", (string paymentId, PaymentSheetBoard board, IGrainFactory grains) =>
            OnDeviceAsync(paymentId, board, grains, ability => ability.DeclineAsync(paymentId)));
    }

    private static async Task<IResult> OnDeviceAsync(
        string paymentId,
        PaymentSheetBoard board,
        IGrainFactory grains,
        Func<IPaymentAbilityGrain, Task<VerificationResult>> act)
    {
        if (!board.TryGet(paymentId, out var offer))
        {
            return Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"payment '{paymentId}' is not on this device's sheet");
        }

        try
        {
            var result = await act(grains.GetGrain<IPaymentAbilityGrain>(offer!.PayerDeviceId));
            return Results.Json(VerificationView.From(result), HandoffJson.Options);
        }
        catch (HandoffException refused)
        {
            return Error(StatusCodes.Status409Conflict, refused.Code, refused.Message);
        }
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Json(ErrorView.Of(code, message), HandoffJson.Options, statusCode: status);
}
