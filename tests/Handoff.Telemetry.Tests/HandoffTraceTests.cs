using Handoff.Grains.Payer;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using Handoff.Contracts;
using Handoff.Contracts.Telemetry;

namespace Handoff.Telemetry.Tests;

public sealed class HandoffTraceTests(TracedHousehold household) : IClassFixture<TracedHousehold>
{
    [Fact]
    public async Task One_handoff_is_one_trace_across_the_initiator_the_hub_and_the_payers_silo()
    {
        var payment = await household.Client(TracedHousehold.Tv).RequestPaymentAsync(
            new PaymentInfo(12.50m, "CNY", "Tea House"), TracedHousehold.Phone.Id);
        var approved = await ApproveOnPhoneAsync(payment.PaymentId, TracedHousehold.PhonePin);
        Assert.Equal(PaymentState.Completed, approved);

        var spans = await WaitForSpansAsync(payment.PaymentId, "payment Completed");
        var ofPayment = spans.Where(span => Tag(span, HandoffDiagnostics.PaymentIdTag) == payment.PaymentId).ToList();
        var traceId = Assert.Single(ofPayment.Select(span => span.TraceId).Distinct());
        var trace = spans.Where(span => span.TraceId == traceId).ToList();

        // The initiator: its outgoing Create call starts the trace.
        var create = Assert.Single(trace, span => span.DisplayName == "IPaymentRequestGrain/CreateAsync" && span.Kind == ActivityKind.Client);
        Assert.Equal(default, create.ParentSpanId);

        // The hub: the call arrives as a child of the initiator's, and each transition is a span under it.
        var hubCreate = Assert.Single(trace, span => span.DisplayName == "IPaymentRequestGrain/CreateAsync" && span.Kind == ActivityKind.Server);
        Assert.Equal(create.SpanId, hubCreate.ParentSpanId);
        var created = Assert.Single(trace, span => span.DisplayName == "payment Created");
        Assert.Equal(hubCreate.SpanId, created.ParentSpanId);
        var hubSilo = household.Hub.SiloAddress.ToString();
        var payerSilo = household.PayerSilo.SiloAddress.ToString();
        foreach (var state in new[] { "Created", "Offered", "Displayed", "Authorized", "Charging", "Completed" })
        {
            var transition = Assert.Single(trace, span => span.DisplayName == $"payment {state}");
            Assert.Equal(hubSilo, Tag(transition, HandoffDiagnostics.SiloTag));
            Assert.Equal(TracedHousehold.Tv, Tag(transition, HandoffDiagnostics.InitiatorTag));
            Assert.Equal(TracedHousehold.Phone.Id, Tag(transition, HandoffDiagnostics.PayerTag));
        }

        // The payer's silo: the hub's Offer call arrives there, and the sheet is shown under it.
        var hubOffer = Assert.Single(trace, span => span.DisplayName == "IPaymentAbilityGrain/OfferAsync" && span.Kind == ActivityKind.Client);
        Assert.Equal(hubCreate.SpanId, hubOffer.ParentSpanId);
        var payerOffer = Assert.Single(trace, span => span.DisplayName == "IPaymentAbilityGrain/OfferAsync" && span.Kind == ActivityKind.Server);
        Assert.Equal(hubOffer.SpanId, payerOffer.ParentSpanId);
        var shown = Assert.Single(trace, span => span.DisplayName == "payer offer shown");
        Assert.Equal(payerOffer.SpanId, shown.ParentSpanId);
        Assert.Equal(payerSilo, Tag(shown, HandoffDiagnostics.SiloTag));
        Assert.Equal(TracedHousehold.Phone.Id, Tag(shown, HandoffDiagnostics.DeviceTag));

        // The PIN comes later, in the phone's own process, from its own UI: its step joins the handoff's trace, and the
        // authorization it sends to the hub is a child of that step.
        var pin = Assert.Single(trace, span => span.DisplayName == "payer PIN verified");
        Assert.Equal(payerSilo, Tag(pin, HandoffDiagnostics.SiloTag));
        Assert.Contains(trace, span => span.SpanId == pin.ParentSpanId);
        // Typed on the phone itself: no call brought it there, so the step links to nothing outside the handoff.
        Assert.Empty(pin.Links);
        var authorize = Assert.Single(trace, span => span.DisplayName == "IPaymentRequestGrain/AuthorizeAsync" && span.Kind == ActivityKind.Client);
        Assert.Equal(pin.SpanId, authorize.ParentSpanId);
        var completed = Assert.Single(trace, span => span.DisplayName == "payment Completed");
        Assert.Contains(trace, span => span.SpanId == completed.ParentSpanId);

        // Every span of the trace hangs off another span of it, up to the one root.
        Assert.All(trace.Where(span => span != create), span => Assert.Contains(trace, parent => parent.SpanId == span.ParentSpanId));
    }

    [Fact]
    public async Task Background_calls_start_no_trace()
    {
        await household.Client(TracedHousehold.Tv).HeartbeatAsync();
        await household.Client(TracedHousehold.Tv).ListDevicesAsync();

        Assert.DoesNotContain(household.Snapshot(), span => span.DisplayName is "IDeviceGrain/HeartbeatAsync" or "IHouseholdGrain/ListDevicesAsync");
    }

    private async Task<IReadOnlyList<Activity>> WaitForSpansAsync(string paymentId, string last)
    {
        IReadOnlyList<Activity> spans = [];
        await BoundedWait.UntilAsync(
            () =>
            {
                spans = household.Snapshot();
                return Task.FromResult(spans.Any(span => span.DisplayName == last && Tag(span, HandoffDiagnostics.PaymentIdTag) == paymentId));
            },
            $"span '{last}' of payment {paymentId}",
            TimeSpan.FromSeconds(10),
            () => "have: " + string.Join(", ", spans.Select(span => span.DisplayName)));
        return spans;
    }

    /// <summary>What the phone's sheet does when the person types the PIN: the verification in the phone's own process.</summary>
    private async Task<PaymentState?> ApproveOnPhoneAsync(string paymentId, string pin)
    {
        var services = household.Cluster.GetSiloServiceProvider(household.PayerSilo.SiloAddress);
        var sheet = services.GetRequiredService<PaymentSheetBoard>();
        var ability = services.GetRequiredService<PayerVerification>();
        await BoundedWait.UntilAsync(
            () => Task.FromResult(sheet.Shows(paymentId)),
            $"payment {paymentId} on {TracedHousehold.Phone.Id}'s sheet",
            TimeSpan.FromSeconds(10));

        var result = await ability.ApproveWithPinAsync(paymentId, pin);
        return result.Payment?.State;
    }

    private static string? Tag(Activity span, string name) => span.GetTagItem(name) as string;
}
