using Handoff.Contracts;
using Microsoft.Extensions.Logging;
using Orleans.Utilities;

namespace Handoff.Grains.Payments;

/// <summary>
/// Tells the world about a payment's saved transitions: one span and one log line per step, and a push of the
/// payment to each subscribed observer. An ended payment forgets its observers after its last push.
/// </summary>
internal sealed partial class PaymentNotifier(string paymentId, string silo, TimeProvider time, ILogger logger)
{
    private readonly ObserverManager<IPaymentObserver> _observers = new(TimeSpan.FromMinutes(5), logger)
    {
        GetDateTime = () => time.GetUtcNow().UtcDateTime,
    };

    // How many steps of the record were told already: those before it were saved by an earlier activation or call.
    private int _notifiedVersion;

    /// <summary>The record was read: its steps so far are history, not news.</summary>
    public void Loaded(PaymentRecord record) => _notifiedVersion = record.History.Count;

    public void Subscribe(IPaymentObserver observer) => _observers.Subscribe(observer, observer);

    public void Unsubscribe(IPaymentObserver observer) => _observers.Unsubscribe(observer);

    /// <summary>Saves the record inside the spans of its new steps, then logs and pushes them.</summary>
    public async Task SaveAndNotifyAsync(PaymentRecord record, Func<Task> save)
    {
        using (Telemetry.HandoffTraces.Transitions(paymentId, record, _notifiedVersion, silo))
        {
            await save();
        }

        var snapshot = record.ToSnapshot(paymentId);
        foreach (var step in snapshot.History.Skip(_notifiedVersion))
        {
            // The first step records the creation (Created to Created): it is no transition, so it is logged as what it is.
            if (step.From == step.To)
            {
                LogCreated(logger, paymentId, step.Device, step.Cause);
            }
            else
            {
                LogTransition(logger, paymentId, step.From, step.To, step.Cause);
            }
        }

        _notifiedVersion = snapshot.Version;
        await _observers.Notify(observer => observer.OnPaymentUpdatedAsync(snapshot));
        if (snapshot.IsTerminal)
        {
            // The last push went out: nothing more will change, so nobody needs to stay subscribed.
            _observers.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: Created by {Device} ({Cause})")]
    private static partial void LogCreated(ILogger logger, string paymentId, string device, string cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: {From} -> {To} ({Cause})")]
    private static partial void LogTransition(ILogger logger, string paymentId, PaymentState from, PaymentState to, string cause);
}
