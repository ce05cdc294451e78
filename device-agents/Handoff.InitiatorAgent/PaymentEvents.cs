using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.Sdk;
using Handoff.Sdk.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Handoff.InitiatorAgent;

/// <summary>
/// What the checkout page needs beyond the JSON API: who this device is, and <c>GET /api/payments/{id}/events</c>,
/// a payment's every state pushed as Server-Sent Events (<c>payment</c>: a <see cref="PaymentView"/>) until it ends.
/// </summary>
internal static class PaymentEvents
{
    public static void MapPaymentEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/device", (InitiatorAgentSettings settings) =>
            Results.Json(new DeviceSummary(settings.DeviceId, settings.DisplayName, settings.Kind.ToString().ToLowerInvariant(), settings.HouseholdId), HandoffJson.Options));

        app.MapGet("/api/payments/{paymentId}/events", (
            string paymentId,
            HandoffClient handoff,
            IHostApplicationLifetime lifetime,
            CancellationToken requestAborted) =>
            TypedResults.ServerSentEvents(StreamAsync(handoff, paymentId, lifetime.ApplicationStopping, requestAborted)));
    }

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(
        HandoffClient handoff,
        string paymentId,
        CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken requestAborted)
    {
        // Ends the stream when the page goes away or the agent stops, so a shutdown never waits on an open page.
        using var end = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        await using var updates = handoff.WatchAsync(paymentId, end.Token).GetAsyncEnumerator(end.Token);
        while (true)
        {
            SseItem<string> item;
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    yield break;
                }

                item = Item("payment", PaymentView.From(updates.Current));
            }
            catch (OperationCanceledException) when (end.IsCancellationRequested)
            {
                yield break;
            }
            catch (HandoffException refused)
            {
                // Named "failure", not "error": EventSource reserves "error" for a lost connection.
                item = Item("failure", ErrorView.Of(refused.Code, refused.Message));
            }

            yield return item;
            if (item.EventType == "failure")
            {
                yield break;
            }
        }
    }

    private static SseItem<string> Item<T>(string eventType, T data) =>
        new(JsonSerializer.Serialize(data, HandoffJson.Options), eventType);
}

/// <summary>This initiator device, as its checkout page names it.</summary>
internal sealed record DeviceSummary(string Id, string DisplayName, string Kind, string Household);
