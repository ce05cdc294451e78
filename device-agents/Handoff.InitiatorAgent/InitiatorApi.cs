using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Handoff.Sdk;
using Handoff.Sdk.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Handoff.InitiatorAgent;

/// <summary>The initiator device's local API on 127.0.0.1: what its checkout UI calls.</summary>
internal static class InitiatorApi
{
    public static void MapInitiatorApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", (InitiatorAgentSettings settings) =>
            Results.Json(new { status = "ok", role = "initiator", device = settings.DeviceId }, HandoffJson.Options));

        // The page's catalogue and cart, priced in minor units, read as every other surface reads money.
        app.MapGet("/api/amounts", (string? currency, long[]? minor) => Guarded(() =>
        {
            var code = PaymentRules.RequireCurrency(currency, "currency");
            return Task.FromResult(Results.Json((minor ?? []).Select(units => DisplayText.MoneyOfMinor(units, code)), HandoffJson.Options));
        }));

        app.MapGet("/api/payers", (HandoffClient handoff) => Guarded(async () =>
        {
            // Whose each device is, so the shop can say "Alice" beside her phone.
            var payers = await handoff.ListPayerDevicesAsync();
            var members = await handoff.ListMembersAsync();
            return Results.Json(payers.Select(device => DeviceView.From(device, members)), HandoffJson.Options);
        }));

        app.MapPost("/api/payments", (PayBody body, HandoffClient handoff, PaymentTracker tracker) => Guarded(async () =>
        {
            var info = new PaymentInfo(body.Amount, body.Currency ?? string.Empty, body.Merchant ?? string.Empty, body.Description);
            var expiresIn = body.ExpiresInSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
            var payment = await handoff.RequestPaymentAsync(info, body.Payer ?? string.Empty, body.OrderKey, expiresIn);
            tracker.Track(payment);
            return Results.Json(PaymentView.From(payment), HandoffJson.Options, statusCode: StatusCodes.Status201Created);
        }));

        app.MapGet("/api/payments/{paymentId}", (string paymentId, HandoffClient handoff) => Guarded(async () =>
            Results.Json(PaymentView.From(await handoff.GetPaymentAsync(paymentId)), HandoffJson.Options)));

        app.MapPost("/api/payments/{paymentId}/cancel", (string paymentId, HandoffClient handoff) => Guarded(async () =>
            Results.Json(PaymentView.From(await handoff.CancelAsync(paymentId)), HandoffJson.Options)));

        // The shop is the merchant's app: it gives money back, signed with this device's key, idempotent by key.
        app.MapPost("/api/payments/{paymentId}/refund", (string paymentId, RefundBody body, HandoffClient handoff) => Guarded(async () =>
            Results.Json(PaymentView.From(await handoff.RefundAsync(paymentId, body.Amount, body.Key)), HandoffJson.Options)));
    }

    private static async Task<IResult> Guarded(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (HandoffException refused)
        {
            var status = refused.Code switch
            {
                ErrorCodes.NotFound => StatusCodes.Status404NotFound,
                ErrorCodes.Validation => StatusCodes.Status400BadRequest,
                ErrorCodes.PayerOffline or ErrorCodes.Unavailable => StatusCodes.Status503ServiceUnavailable,
                ErrorCodes.Forbidden => StatusCodes.Status403Forbidden,
                _ => StatusCodes.Status409Conflict,
            };
            return Results.Json(ErrorView.Of(refused.Code, refused.Message), HandoffJson.Options, statusCode: status);
        }
    }
}
