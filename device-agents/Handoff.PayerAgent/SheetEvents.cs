using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Handoff.Grains.Payer;
using Handoff.Sdk.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Handoff.PayerAgent;

/// <summary>
/// <c>GET /api/sheet/events</c>: the payment sheet pushed to the device's page as Server-Sent Events,
/// first who the device is and what is on screen, then every change as it happens.
/// </summary>
internal static class SheetEvents
{
    public static void MapSheetEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/sheet/events", (
            PaymentSheetBoard board,
            PayerVerification verification,
            PayerAgentSettings settings,
            TimeProvider time,
            IHostApplicationLifetime lifetime,
            CancellationToken requestAborted) =>
            TypedResults.ServerSentEvents(StreamAsync(board, verification, settings, time, lifetime.ApplicationStopping, requestAborted)));
    }

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(
        PaymentSheetBoard board,
        PayerVerification verification,
        PayerAgentSettings settings,
        TimeProvider time,
        CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken requestAborted)
    {
        // Ends the stream when the page goes away or the agent stops, so a shutdown never waits on an open page.
        using var end = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        var events = board.ListenAsync(end.Token).GetAsyncEnumerator(end.Token);

        // Listening starts before the screen is read, so an offer shown in between is not missed (the page drops repeats).
        var next = events.MoveNextAsync().AsTask();
        try
        {
            var owners = await verification.OwnersAsync(settings.HouseholdId);
            var devices = settings.Devices.Select(device => new SheetDeviceView(device.Id, device.DisplayName, owners.GetValueOrDefault(device.Id)));
            yield return Item("hello", new SheetHelloView([.. devices], time.GetUtcNow()));
            foreach (var offer in board.OnScreen)
            {
                yield return Item(SheetEvent.Shown, SheetEventView.From(new SheetEvent(SheetEvent.Shown, offer.PaymentId, offer, null, null), time));
            }

            while (await ContinuesAsync(next))
            {
                var sheetEvent = events.Current;
                yield return Item(sheetEvent.Kind, SheetEventView.From(sheetEvent, time));
                next = events.MoveNextAsync().AsTask();
            }
        }
        finally
        {
            await end.CancelAsync();
            await ContinuesAsync(next);
            await events.DisposeAsync();
        }
    }

    private static async Task<bool> ContinuesAsync(Task<bool> next)
    {
        try
        {
            return await next;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static SseItem<string> Item<T>(string eventType, T data) =>
        new(JsonSerializer.Serialize(data, HandoffJson.Options), eventType);
}

/// <summary>A device this agent carries, as the sheet page names it, and whose it is (null: nobody's).</summary>
internal sealed record SheetDeviceView(string Id, string DisplayName, string? Owner);

/// <summary>The first event of the stream: the devices, and the agent's clock so the page's countdown can allow for skew.</summary>
internal sealed record SheetHelloView(IReadOnlyList<SheetDeviceView> Devices, DateTimeOffset Now);

/// <summary>One change of the sheet as the page receives it.</summary>
internal sealed record SheetEventView(string PaymentId, OfferView? Offer, string? State, int? TriesLeft, DateTimeOffset Now, string? Reason = null)
{
    public static SheetEventView From(SheetEvent sheetEvent, TimeProvider time) => new(
        sheetEvent.PaymentId,
        sheetEvent.Offer is { } offer ? OfferView.From(offer) : null,
        sheetEvent.FinalState?.ToString(),
        sheetEvent.TriesLeft,
        time.GetUtcNow(),
        sheetEvent.Reason);
}
