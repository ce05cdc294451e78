using System.Collections.Concurrent;
using System.Diagnostics;
using Handoff.Contracts;
using Handoff.Contracts.Telemetry;

namespace Handoff.Grains.Telemetry;

/// <summary>
/// The project's spans and metrics for a payment: one span per state transition on the hub, one per device
/// step on the payer. A step that starts outside the handoff's own call chain (a timer, a reminder, the PIN
/// typed later on the phone, a cancel from another process) is parented on the handoff's trace, with a link
/// to the call that caused it, so that one handoff stays one trace.
/// </summary>
internal static class HandoffTraces
{
    // Bounded: a payment leaves at its terminal state; if many never end here (a hub restart), start afresh.
    private const int MaxRemembered = 10_000;
    private static readonly ConcurrentDictionary<string, ActivityContext> s_handoffs = new();

    /// <summary>Spans for the steps of <paramref name="record"/> after <paramref name="notifiedVersion"/>, ended on dispose.</summary>
    public static Spans Transitions(string paymentId, PaymentRecord record, int notifiedVersion, string silo)
    {
        var steps = record.History.Skip(notifiedVersion).ToList();
        if (steps.Count == 0 || record.Input is not { } input)
        {
            return default;
        }

        var activities = new List<Activity>(steps.Count);
        foreach (var step in steps)
        {
            var activity = Start($"payment {step.To}", paymentId, silo, step.Device);
            if (activity is not null)
            {
                activity.SetTag(HandoffDiagnostics.InitiatorTag, input.InitiatorDeviceId);
                activity.SetTag(HandoffDiagnostics.PayerTag, input.PayerDeviceId);
                activity.SetTag(HandoffDiagnostics.FromTag, step.From.ToString());
                activity.SetTag(HandoffDiagnostics.ToTag, step.To.ToString());
                activity.SetTag(HandoffDiagnostics.CauseTag, step.Cause);
                if (step.To.Rule().Error)
                {
                    activity.SetStatus(ActivityStatusCode.Error, step.Cause);
                }

                activities.Add(activity);
            }

            Record(step, record);
        }

        return new Spans(activities, record.State.IsTerminal() ? paymentId : null);
    }

    /// <summary>The payer device's step "offer shown": remembers the handoff for the steps the person takes later.</summary>
    public static Activity? OfferShown(PaymentOffer offer, string silo)
    {
        var activity = Start("payer offer shown", offer.PaymentId, silo, offer.PayerDeviceId);
        activity?.SetTag(HandoffDiagnostics.InitiatorTag, offer.InitiatorDeviceId);
        activity?.SetTag(HandoffDiagnostics.PayerTag, offer.PayerDeviceId);
        return activity;
    }

    /// <summary>The payer device's step "PIN verified": the person's answer, in the handoff's trace.</summary>
    public static Activity? PinEntered(string paymentId, string deviceId, string silo) =>
        Start("payer PIN verified", paymentId, silo, deviceId);

    private static Activity? Start(string name, string paymentId, string silo, string device)
    {
        if (!HandoffDiagnostics.Source.HasListeners())
        {
            return null;
        }

        var current = Activity.Current;
        ActivityContext parent = default;
        ActivityLink[]? links = null;
        if (s_handoffs.TryGetValue(paymentId, out var handoff) && current?.TraceId != handoff.TraceId)
        {
            parent = handoff;
            links = current is null ? null : [new ActivityLink(current.Context)];
        }
        else if (current is not null)
        {
            parent = current.Context;
        }

        var activity = HandoffDiagnostics.Source.StartActivity(name, ActivityKind.Internal, parent, links: links);
        if (activity is null)
        {
            return null;
        }

        activity.SetTag(HandoffDiagnostics.PaymentIdTag, paymentId);
        activity.SetTag(HandoffDiagnostics.DeviceTag, device);
        activity.SetTag(HandoffDiagnostics.SiloTag, silo);
        if (!s_handoffs.ContainsKey(paymentId))
        {
            if (s_handoffs.Count >= MaxRemembered)
            {
                s_handoffs.Clear();
            }

            s_handoffs[paymentId] = activity.Context;
        }

        return activity;
    }

    private static void Record(PaymentTransition step, PaymentRecord record)
    {
        var elapsed = (step.At - record.CreatedAt).TotalSeconds;
        switch (step.To)
        {
            case PaymentState.Created:
                HandoffDiagnostics.Started.Add(1);
                break;
            case PaymentState.Displayed:
                HandoffDiagnostics.TimeToSheet.Record(elapsed);
                break;
            case PaymentState.Completed:
                HandoffDiagnostics.Completed.Add(1);
                HandoffDiagnostics.EndToEnd.Record(elapsed, new KeyValuePair<string, object?>("outcome", "completed"));
                break;
            case var terminal when terminal.IsTerminal():
                var reason = terminal.ToString().ToLowerInvariant();
                HandoffDiagnostics.Failed.Add(1, new KeyValuePair<string, object?>(HandoffDiagnostics.ReasonTag, reason));
                HandoffDiagnostics.EndToEnd.Record(elapsed, new KeyValuePair<string, object?>("outcome", reason));
                break;
        }
    }

    /// <summary>Forgets a payment whose spans are all written (the payer forgets on its own terminal step).</summary>
    public static void Forget(string paymentId) => s_handoffs.TryRemove(paymentId, out _);

    /// <summary>The open transition spans of one save; disposing ends them.</summary>
    public readonly struct Spans(List<Activity>? activities, string? endedPaymentId) : IDisposable
    {
        public void Dispose()
        {
            // Newest first: each step's span is the current one of the next, and ending restores its parent.
            for (var index = (activities?.Count ?? 0) - 1; index >= 0; index--)
            {
                activities![index].Dispose();
            }

            if (endedPaymentId is not null)
            {
                Forget(endedPaymentId);
            }
        }
    }
}
