namespace Handoff.Contracts;

/// <summary>
/// The payment program of one payer device (key: payer device id). It only ever activates on the
/// silo that carries that device; it shows offers on the device and verifies the person there.
/// </summary>
[Alias("handoff.IPaymentAbilityGrain")]
public interface IPaymentAbilityGrain : IGrainWithStringKey
{
    /// <summary>Puts an offer on the device's payment sheet; returns once the sheet shows it.</summary>
    [Alias("Offer"), ResponseTimeout("00:00:05")]
    Task OfferAsync(PaymentOffer offer);

    /// <summary>The offers currently on the device's sheet.</summary>
    [Alias("Pending")]
    Task<IReadOnlyList<PaymentOffer>> GetPendingAsync();

    /// <summary>The person entered a PIN on the device.</summary>
    [Alias("ApproveWithPin")]
    Task<VerificationResult> ApproveWithPinAsync(string paymentId, string pin);

    /// <summary>The device's biometric check passed: a device-key assertion, with no PIN to hash.</summary>
    [Alias("ApproveWithBiometric")]
    Task<VerificationResult> ApproveWithBiometricAsync(string paymentId);

    /// <summary>The person declined on the device.</summary>
    [Alias("Decline")]
    Task<VerificationResult> DeclineAsync(string paymentId);

    /// <summary>The payment ended elsewhere (cancelled, expired, paid): take it off the sheet.</summary>
    [OneWay, Alias("Close")]
    Task CloseAsync(string paymentId, PaymentState finalState);
}
