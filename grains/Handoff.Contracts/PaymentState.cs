namespace Handoff.Contracts;

/// <summary>The states of one payment; the last four are terminal failures.</summary>
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

/// <summary>Which transitions the payment state machine allows.</summary>
public static class PaymentStates
{
    public static bool IsTerminal(this PaymentState state) => state >= PaymentState.Completed;

    /// <summary>True while the person can still verify or decline on the payer device.</summary>
    public static bool AwaitsVerification(this PaymentState state) =>
        state is PaymentState.Created or PaymentState.Offered or PaymentState.Displayed;

    public static bool CanMove(PaymentState from, PaymentState to) => (from, to) switch
    {
        (PaymentState.Created, PaymentState.Offered) => true,
        (PaymentState.Offered, PaymentState.Displayed) => true,
        (PaymentState.Offered or PaymentState.Displayed, PaymentState.Authorized) => true,
        (PaymentState.Authorized, PaymentState.Charging) => true,
        (PaymentState.Charging, PaymentState.Completed) => true,
        (PaymentState.Charging, PaymentState.Failed) => true,
        (_, PaymentState.Declined or PaymentState.Cancelled or PaymentState.Expired) => from.AwaitsVerification(),
        (PaymentState.Created or PaymentState.Offered or PaymentState.Displayed or PaymentState.Authorized, PaymentState.Failed) => true,
        _ => false,
    };
}
