using System.Collections.Concurrent;
using System.Threading.Channels;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Contracts.Validation;

namespace Handoff.Grains.Payer;

/// <summary>One thing that happened on a payer device's sheet.</summary>
/// <param name="Reason">Why a payment that ended on this sheet ended, as its authority recorded it (closed only).</param>
public sealed record SheetEvent(string Kind, string PaymentId, PaymentOffer? Offer, PaymentState? FinalState, int? TriesLeft, string? Reason = null)
{
    public const string Shown = "shown";
    public const string WrongPin = "wrong-pin";
    public const string Closed = "closed";
    public const string Refunded = "refunded";
}

/// <summary>
/// The in-process payment sheet of a payer agent: holds what is on screen and pushes every change
/// to its listeners (the terminal display, the local HTTP API).
/// </summary>
public sealed class PaymentSheetBoard(KeyRingSigner keys, TimeProvider time) : IPaymentSheet
{
    private readonly ConcurrentDictionary<string, PaymentOffer> _onScreen = new();
    private readonly ConcurrentDictionary<Channel<SheetEvent>, byte> _listeners = new();

    /// <summary>The devices this agent carries (whose keys it holds).</summary>
    public IReadOnlyList<string> Devices => keys.DeviceIds;

    /// <summary>The offers on screen, oldest deadline first; an offer past its deadline leaves the screen.</summary>
    public IReadOnlyList<PaymentOffer> OnScreen
    {
        get
        {
            DropExpired();
            return [.. _onScreen.Values.OrderBy(offer => offer.Deadline)];
        }
    }

    public bool Shows(string paymentId) => TryGet(paymentId, out _);

    public bool TryGet(string paymentId, out PaymentOffer? offer)
    {
        // Only this offer's deadline: a sweep of the whole screen on every approval costs a busy agent dearly.
        if (_onScreen.TryGetValue(paymentId, out offer) && offer.Deadline <= time.GetUtcNow())
        {
            Close(paymentId, PaymentState.Expired);
            offer = null;
        }

        return offer is not null;
    }

    private void DropExpired()
    {
        var now = time.GetUtcNow();
        foreach (var offer in _onScreen.Values)
        {
            if (offer.Deadline <= now)
            {
                Close(offer.PaymentId, PaymentState.Expired);
            }
        }
    }

    public ValueTask ShowAsync(PaymentOffer offer)
    {
        _onScreen[offer.PaymentId] = offer;
        Publish(new SheetEvent(SheetEvent.Shown, offer.PaymentId, offer, null, null));
        return ValueTask.CompletedTask;
    }

    public void WrongPin(string paymentId, int triesLeft) =>
        Publish(new SheetEvent(SheetEvent.WrongPin, paymentId, null, null, triesLeft));

    public void Close(string paymentId, PaymentState state, string? reason = null)
    {
        if (_onScreen.TryRemove(paymentId, out var offer))
        {
            Publish(new SheetEvent(SheetEvent.Closed, paymentId, offer, state, null, reason));
        }
    }

    public void Refunded(PaymentSnapshot payment) =>
        Publish(new SheetEvent(
            SheetEvent.Refunded,
            payment.PaymentId,
            null,
            payment.State,
            null,
            $"{DisplayText.Money(payment.Refunded, payment.Info.Currency)} of {DisplayText.Money(payment.Info.Amount, payment.Info.Currency)} back from {payment.Info.Merchant}"));

    /// <summary>Every later event, until <paramref name="cancellationToken"/> ends the subscription.</summary>
    public async IAsyncEnumerable<SheetEvent> ListenAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<SheetEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        _listeners.TryAdd(channel, 0);
        try
        {
            await foreach (var sheetEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return sheetEvent;
            }
        }
        finally
        {
            _listeners.TryRemove(channel, out _);
        }
    }

    private void Publish(SheetEvent sheetEvent)
    {
        foreach (var listener in _listeners.Keys)
        {
            listener.Writer.TryWrite(sheetEvent);
        }
    }
}
