using System.Collections.Concurrent;
using Handoff.Contracts;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Chaos;

/// <summary>One recorded move of a payment, as every surface shows it (the SDK's snapshots and the agents' JSON alike).</summary>
internal sealed record ChaosStep(PaymentState From, PaymentState To, DateTimeOffset At, string Device)
{
    public static IReadOnlyList<ChaosStep> Of(IEnumerable<PaymentTransition> history) =>
        [.. history.Select(step => new ChaosStep(step.From, step.To, step.At, step.Device))];

    public static IReadOnlyList<ChaosStep> Of(IEnumerable<TransitionView> history) =>
        [.. history.Select(step => new ChaosStep(Enum.Parse<PaymentState>(step.From), Enum.Parse<PaymentState>(step.To), step.At, step.Device))];

    public override string ToString() => $"{From}->{To}";
}

/// <summary>An approval the run asked a payer device for: the device signs only these (a right PIN), nothing else.</summary>
internal sealed record ApprovalAsked(string Device, string? Program, bool RightPin);

/// <summary>Everything the run asked of one payment and everything the household told it back.</summary>
internal sealed class PaymentJournal(HandoffPlan plan, string paymentId)
{
    public HandoffPlan Plan => plan;

    public string PaymentId => paymentId;

    /// <summary>The household accepted the request (answered with the payment).</summary>
    public bool Accepted { get; set; }

    /// <summary>The household refused it for good (payer offline, …), so it must not exist.</summary>
    public string? Refused { get; set; }

    public DateTimeOffset? Deadline { get; set; }

    /// <summary>Something the household said shows the payment ended: nothing more to do for it.</summary>
    public bool Ended { get; set; }

    public ConcurrentQueue<ApprovalAsked> Approvals { get; } = new();

    /// <summary>Every history the household answered with (source, steps): each must stay the start of the stored one.</summary>
    public ConcurrentQueue<(string Source, IReadOnlyList<ChaosStep> History)> Answers { get; } = new();

    /// <summary>Refunds the TV's agent confirmed, by refund key: each must be booked with this amount.</summary>
    public ConcurrentDictionary<string, decimal> RefundsConfirmed { get; } = new(StringComparer.Ordinal);

    /// <summary>What the SDK watcher of this payment saw: one list of histories per watch (a watch ends when a fault cuts it).</summary>
    public ConcurrentQueue<IReadOnlyList<IReadOnlyList<ChaosStep>>> Watches { get; } = new();

    public void Answered(string source, PaymentView payment)
    {
        Answers.Enqueue((source, ChaosStep.Of(payment.History)));
        Ended |= payment.Terminal;
    }

    public void Answered(string source, PaymentSnapshot payment)
    {
        Answers.Enqueue((source, ChaosStep.Of(payment.History)));
        Ended |= payment.IsTerminal;
    }
}

/// <summary>What a chaos run did and heard, payment by payment: the evidence the verdict is judged on.</summary>
internal sealed class ChaosJournal
{
    private readonly ConcurrentDictionary<string, PaymentJournal> _payments = new(StringComparer.Ordinal);

    public IEnumerable<PaymentJournal> Payments => _payments.Values.OrderBy(payment => payment.Plan.Index);

    public PaymentJournal Add(HandoffPlan plan, string paymentId) => _payments.GetOrAdd(paymentId, id => new PaymentJournal(plan, id));

    public PaymentJournal? Find(string paymentId) => _payments.GetValueOrDefault(paymentId);
}
