using Handoff.Contracts;
using Microsoft.Extensions.Logging;

namespace Handoff.Grains.Payments;

/// <summary>The calls a payment's authority makes to other grains: the payer's sheet and the household's ledger.</summary>
internal sealed partial class PaymentCalls(IGrainFactory grains, FaultPoints faults, string paymentId, ILogger logger)
{
    /// <summary>Offers the payment to a payer device's sheet; false when the payer cannot be reached or did not show it.</summary>
    public async Task<bool> OfferAsync(string device)
    {
        try
        {
            await grains.GetGrain<IPaymentAbilityGrain>(device).OfferAsync(paymentId);
            return true;
        }
        catch (Exception exception) when (exception is HandoffException or SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
        {
            // A device's refusal (say, its sheet's call back reached another, unloaded activation of this payment while the
            // cluster's membership changed: "not being offered") means only that this device does not show it; the payment
            // stands, and whoever waits on the offer hears about the payment, never the device's refusal.
            LogPayerUnreachable(logger, paymentId, device, exception.GetType().Name);
            return false;
        }
    }

    /// <summary>Best effort and one-way: the sheet also closes itself at the deadline, and an offline payer has nothing to close.</summary>
    public void Close(string device) => grains.GetGrain<IPaymentAbilityGrain>(device).CloseAsync(paymentId).Ignore();

    /// <summary>Best effort and one-way: an offline payer sees the refund in the payment's status instead.</summary>
    public void NoteRefund(string device) => grains.GetGrain<IPaymentAbilityGrain>(device).NoteRefundAsync(paymentId).Ignore();

    /// <summary>Books the charge and says how it went, as the command the lifecycle decides on next.</summary>
    public async Task<PaymentCommand> ChargeAsync(string householdId, ChargeRequest charge)
    {
        try
        {
            await faults.ReachedAsync(FaultPoints.AuthorizedNotCharged);
            var entry = await grains.GetGrain<ILedgerGrain>(householdId).ChargeAsync(charge);
            await faults.ReachedAsync(FaultPoints.ChargedNotCompleted);
            return new PaymentCommand.Charged(entry.Sequence);
        }
        catch (HandoffException refused)
        {
            return new PaymentCommand.ChargeRefused(refused.Message);
        }
        catch (Exception exception) when (exception is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            // The charge may or may not have landed; the ledger answers the same payment id with the same entry, so retry.
            LogChargeRetry(logger, exception, paymentId);
            return new PaymentCommand.ChargeUncertain();
        }
    }

    /// <summary>
    /// Books a refund and has the lifecycle <paramref name="decide"/> on how it went; a refusal is then the asker's error.
    /// </summary>
    public async Task BookRefundAsync(string householdId, string key, ChargeRequest refund, Func<PaymentCommand, Task> decide)
    {
        var (outcome, refused) = await BookRefundAsync(householdId, key, refund);
        await decide(outcome);
        if (refused is not null)
        {
            throw refused;
        }
    }

    private async Task<(PaymentCommand Outcome, HandoffException? Refused)> BookRefundAsync(string householdId, string key, ChargeRequest refund)
    {
        try
        {
            await faults.ReachedAsync(FaultPoints.RefundNotBooked);
            var entry = await grains.GetGrain<ILedgerGrain>(householdId).ChargeAsync(refund);
            await faults.ReachedAsync(FaultPoints.RefundedNotSaved);
            LogRefunded(logger, paymentId, refund.Amount, refund.Currency, key, entry.Sequence);
            return (new PaymentCommand.RefundBooked(key, entry.Sequence), null);
        }
        catch (HandoffException refused)
        {
            return (new PaymentCommand.RefundRefused(key, refused.Message), refused);
        }
        catch (Exception exception) when (exception is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            LogRefundRetry(logger, exception, paymentId, key);
            return (new PaymentCommand.RefundUncertain(key), null);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: refunded {Amount} {Currency} (key {Key}), ledger entry {Sequence}")]
    private static partial void LogRefunded(ILogger logger, string paymentId, decimal amount, string currency, string key, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: outcome of refund {Key} unknown, retrying")]
    private static partial void LogRefundRetry(ILogger logger, Exception exception, string paymentId, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: charge outcome unknown, retrying")]
    private static partial void LogChargeRetry(ILogger logger, Exception exception, string paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: payer device {PayerDeviceId} is unreachable ({Reason})")]
    private static partial void LogPayerUnreachable(ILogger logger, string paymentId, string payerDeviceId, string reason);
}
