using Handoff.Contracts;

namespace Handoff.Grains;

/// <summary>The durable state of one payment and the only code that moves it between states.</summary>
[GenerateSerializer, Alias("handoff.PaymentRecord")]
public sealed class PaymentRecord
{
    [Id(0)]
    public PaymentRequestInput? Input { get; set; }

    [Id(1)]
    public PaymentState State { get; set; }

    [Id(2)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(3)]
    public DateTimeOffset Deadline { get; set; }

    [Id(4)]
    public string Nonce { get; set; } = string.Empty;

    [Id(5)]
    public string? FailureReason { get; set; }

    [Id(6)]
    public List<PaymentTransition> History { get; set; } = [];

    [Id(7)]
    public string InitiatorName { get; set; } = string.Empty;

    public bool Exists => Input is not null;

    /// <summary>Records the move, or refuses it when the state machine does not allow it.</summary>
    public void Move(string paymentId, PaymentState to, DateTimeOffset at, string device, string cause)
    {
        if (!PaymentStates.CanMove(State, to))
        {
            throw new IllegalTransitionException(paymentId, State, to);
        }

        History.Add(new PaymentTransition(State, to, at, device, cause));
        State = to;
        if (to.IsUnpaid())
        {
            FailureReason = cause;
        }
    }

    public PaymentSnapshot ToSnapshot(string paymentId)
    {
        var input = Input ?? throw new NotFoundException($"payment '{paymentId}' does not exist");
        return new PaymentSnapshot(
            paymentId,
            State,
            input.HouseholdId,
            input.InitiatorDeviceId,
            input.PayerDeviceId,
            input.OrderKey,
            input.Info,
            CreatedAt,
            Deadline,
            FailureReason,
            [.. History]);
    }

    public PaymentOffer ToOffer(string paymentId)
    {
        var input = Input!;
        return new PaymentOffer(paymentId, input.HouseholdId, input.InitiatorDeviceId, InitiatorName, input.PayerDeviceId, input.Info, Deadline, Nonce);
    }

    /// <summary>True when <paramref name="other"/> asks for the same payment as the recorded one.</summary>
    public bool SameRequestAs(PaymentRequestInput other) =>
        Input is { } input
        && input.HouseholdId == other.HouseholdId
        && input.InitiatorDeviceId == other.InitiatorDeviceId
        && input.PayerDeviceId == other.PayerDeviceId
        && input.OrderKey == other.OrderKey
        && input.Info.SameTermsAs(other.Info);
}
