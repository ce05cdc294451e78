namespace Handoff.Contracts;

/// <summary>The states of one payment; what each one means is in <see cref="PaymentStates.Table"/>.</summary>
[GenerateSerializer, Alias("handoff.PaymentState")]
public enum PaymentState
{
    Created = 0,
    Offered = 1,
    Displayed = 2,
    Authorized = 3,
    Charging = 4,
    Completed = 5,
    Declined = 6,
    Cancelled = 7,
    Expired = 8,
    Failed = 9,
}

/// <summary>What a state is: whether it ends the payment, and which states it may move to.</summary>
/// <param name="Terminal">The payment has ended; nothing moves it again.</param>
/// <param name="Unpaid">It ended without a charge (the reason is kept as the failure reason).</param>
/// <param name="Error">It ended by a fault, not by a person's decision (traces mark it as an error).</param>
/// <param name="AwaitsVerification">The person can still verify or decline on the payer device; its deadline runs.</param>
/// <param name="Cancellable">Either party may still cancel it.</param>
/// <param name="Refundable">Money was charged, so the initiator may give some or all of it back.</param>
public sealed record PaymentStateRule(
    PaymentState State,
    bool Terminal,
    bool Unpaid,
    bool Error,
    bool AwaitsVerification,
    bool Cancellable,
    bool Refundable,
    IReadOnlyList<PaymentState> MovesTo);

/// <summary>
/// The payment state machine as one table: every predicate over states (in the grains, the CLI, the hub's page
/// and, through <see cref="PaymentStateRule"/> flags on each payment's JSON, the devices' pages) reads it.
/// </summary>
public static class PaymentStates
{
    private static readonly PaymentState[] Abandoned = [PaymentState.Declined, PaymentState.Cancelled, PaymentState.Expired, PaymentState.Failed];

    public static IReadOnlyList<PaymentStateRule> Table { get; } =
    [
        new(PaymentState.Created, Terminal: false, Unpaid: false, Error: false, AwaitsVerification: true, Cancellable: true, Refundable: false, [PaymentState.Offered, .. Abandoned]),
        new(PaymentState.Offered, Terminal: false, Unpaid: false, Error: false, AwaitsVerification: true, Cancellable: true, Refundable: false, [PaymentState.Displayed, PaymentState.Authorized, .. Abandoned]),
        new(PaymentState.Displayed, Terminal: false, Unpaid: false, Error: false, AwaitsVerification: true, Cancellable: true, Refundable: false, [PaymentState.Authorized, .. Abandoned]),
        new(PaymentState.Authorized, Terminal: false, Unpaid: false, Error: false, AwaitsVerification: false, Cancellable: false, Refundable: false, [PaymentState.Charging, PaymentState.Failed]),
        new(PaymentState.Charging, Terminal: false, Unpaid: false, Error: false, AwaitsVerification: false, Cancellable: false, Refundable: false, [PaymentState.Completed, PaymentState.Failed]),
        new(PaymentState.Completed, Terminal: true, Unpaid: false, Error: false, AwaitsVerification: false, Cancellable: false, Refundable: true, []),
        new(PaymentState.Declined, Terminal: true, Unpaid: true, Error: false, AwaitsVerification: false, Cancellable: false, Refundable: false, []),
        new(PaymentState.Cancelled, Terminal: true, Unpaid: true, Error: false, AwaitsVerification: false, Cancellable: false, Refundable: false, []),
        new(PaymentState.Expired, Terminal: true, Unpaid: true, Error: true, AwaitsVerification: false, Cancellable: false, Refundable: false, []),
        new(PaymentState.Failed, Terminal: true, Unpaid: true, Error: true, AwaitsVerification: false, Cancellable: false, Refundable: false, []),
    ];

    private static readonly PaymentStateRule[] ByState = BuildIndex();

    /// <summary>The table's row for <paramref name="state"/>.</summary>
    public static PaymentStateRule Rule(this PaymentState state) =>
        (int)state is >= 0 and var index && index < ByState.Length
            ? ByState[index]
            : throw new ArgumentOutOfRangeException(nameof(state), state, "not a payment state");

    public static bool IsTerminal(this PaymentState state) => state.Rule().Terminal;

    /// <summary>True for an end without a charge: declined, cancelled, expired, failed.</summary>
    public static bool IsUnpaid(this PaymentState state) => state.Rule().Unpaid;

    /// <summary>True while the person can still verify or decline on the payer device, and either party cancel.</summary>
    public static bool AwaitsVerification(this PaymentState state) => state.Rule().AwaitsVerification;

    /// <summary>True while either party may still cancel.</summary>
    public static bool IsCancellable(this PaymentState state) => state.Rule().Cancellable;

    /// <summary>True when money was charged and may be given back.</summary>
    public static bool IsRefundable(this PaymentState state) => state.Rule().Refundable;

    public static bool CanMove(PaymentState from, PaymentState to) => from.Rule().MovesTo.Contains(to);

    private static PaymentStateRule[] BuildIndex()
    {
        var index = new PaymentStateRule[Enum.GetValues<PaymentState>().Length];
        foreach (var rule in Table)
        {
            index[(int)rule.State] = rule;
        }

        return index.Any(rule => rule is null)
            ? throw new InvalidOperationException("the payment state table misses a state")
            : index;
    }
}
