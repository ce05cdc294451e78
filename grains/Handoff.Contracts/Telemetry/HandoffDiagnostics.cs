using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Handoff.Contracts.Telemetry;

/// <summary>The project's own ActivitySource and Meter, with the tag names every process uses.</summary>
public static class HandoffDiagnostics
{
    /// <summary>Name of both the ActivitySource and the Meter.</summary>
    public const string Name = "Handoff";

    public const string PaymentIdTag = "handoff.payment_id";
    public const string InitiatorTag = "handoff.initiator";
    public const string PayerTag = "handoff.payer";
    public const string DeviceTag = "handoff.device";
    public const string SiloTag = "handoff.silo";
    public const string FromTag = "handoff.from";
    public const string ToTag = "handoff.to";
    public const string CauseTag = "handoff.cause";
    public const string ReasonTag = "reason";

    // A sheet shows in milliseconds, a person answers in seconds, a deadline ends a payment in minutes.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    };

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Started = Meter.CreateCounter<long>(
        "handoff.payments.started", "{payment}", "Payments created and offered to a payer device");

    public static readonly Counter<long> Completed = Meter.CreateCounter<long>(
        "handoff.payments.completed", "{payment}", "Payments charged and completed");

    public static readonly Counter<long> Failed = Meter.CreateCounter<long>(
        "handoff.payments.failed", "{payment}", "Payments that ended without a charge, by reason (declined, cancelled, expired, failed)");

    public static readonly Histogram<double> TimeToSheet = Meter.CreateHistogram(
        "handoff.time_to_sheet", "s", "From the request to the payment sheet shown on the payer device", tags: null, Seconds);

    public static readonly Histogram<double> EndToEnd = Meter.CreateHistogram(
        "handoff.duration", "s", "From the request to the payment's terminal state, by outcome", tags: null, Seconds);
}
