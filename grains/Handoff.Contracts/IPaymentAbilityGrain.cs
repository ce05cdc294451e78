namespace Handoff.Contracts;

/// <summary>
/// The payment program of one payer device (key: payer device id). It only ever activates on the
/// silo that carries that device and only shows the device's sheet: it takes nothing from its caller but a
/// payment id, and reads the terms from the payment's authority itself. No method here approves, declines
/// or checks a PIN: the person verifies in the payer device's own process, from its own UI.
/// </summary>
[Alias("handoff.IPaymentAbilityGrain")]
public interface IPaymentAbilityGrain : IGrainWithStringKey
{
    /// <summary>Shows payment <paramref name="paymentId"/> on the device's sheet, as its authority states it; returns once the sheet shows it.</summary>
    [Alias("ShowOffer"), ResponseTimeout("00:00:05")]
    Task OfferAsync(string paymentId);

    /// <summary>Takes payment <paramref name="paymentId"/> off the sheet, once its authority says it ended.</summary>
    [OneWay, Alias("CloseOffer")]
    Task CloseAsync(string paymentId);

    /// <summary>Tells the device's person that money of payment <paramref name="paymentId"/> came back, once its authority says so.</summary>
    [OneWay, Alias("NoteRefund")]
    Task NoteRefundAsync(string paymentId);
}
