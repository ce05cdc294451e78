namespace Handoff.Contracts;

/// <summary>The single authority for one payment (key: payment id): its durable state machine.</summary>
[Alias("handoff.IPaymentRequestGrain")]
public interface IPaymentRequestGrain : IGrainWithStringKey
{
    /// <summary>Creates the payment and offers it to the payer; the same input again returns the same payment.</summary>
    [Alias("Create")]
    Task<PaymentSnapshot> CreateAsync(PaymentRequestInput input);

    /// <summary>The payment as it stands.</summary>
    [Alias("Get")]
    Task<PaymentSnapshot> GetAsync();

    /// <summary>
    /// The transaction as the payer device is to display and sign it, with its single-use nonce: only for the
    /// payer device itself. Interleaves: the payer's sheet asks while the offer that made it ask is in flight.
    /// </summary>
    [Alias("GetOffer"), AlwaysInterleave]
    Task<PaymentOffer> GetOfferAsync();

    /// <summary>The payer device's approval of the exact transaction it displayed.</summary>
    [Alias("Authorize")]
    Task<PaymentSnapshot> AuthorizeAsync(PaymentApproval approval);

    /// <summary>The person declined on the payer device, or failed verification; signed by the payer device.</summary>
    [Alias("Decline")]
    Task<PaymentSnapshot> DeclineAsync(string payerDeviceId, string reason, byte[] signature);

    /// <summary>Either device cancels before the payment is authorized; signed by that device.</summary>
    [Alias("Cancel")]
    Task<PaymentSnapshot> CancelAsync(string deviceId, byte[] signature);

    /// <summary>
    /// The initiator gives back part or all of a completed payment, signed with its key, idempotent by refund key;
    /// never more in total than was charged. Returns once the ledger booked it.
    /// </summary>
    [Alias("Refund")]
    Task<PaymentSnapshot> RefundAsync(RefundInput input);

    /// <summary>
    /// Pushes every later change of the payment to <paramref name="observer"/> and returns the payment as it
    /// stands. An ended payment pushes nothing more: it forgets its observers when it ends.
    /// </summary>
    [Alias("Subscribe")]
    Task<PaymentSnapshot> SubscribeAsync(IPaymentObserver observer);

    [Alias("Unsubscribe")]
    Task UnsubscribeAsync(IPaymentObserver observer);
}

/// <summary>Receives a payment's changes as they happen (the initiator's SDK implements it).</summary>
[Alias("handoff.IPaymentObserver")]
public interface IPaymentObserver : IGrainObserver
{
    [OneWay, Alias("OnPaymentUpdated")]
    Task OnPaymentUpdatedAsync(PaymentSnapshot payment);
}
