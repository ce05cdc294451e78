using Handoff.Contracts;
using Microsoft.Extensions.Logging;

namespace Handoff.Grains.Payments;

/// <summary>The calls a payment's authority makes to other grains: the payer's sheet and the household's ledger.</summary>
internal sealed partial class PaymentCalls(IGrainFactory grains, FaultPoints faults, string paymentId, ILogger logger)
{
    /// <summary>Offers the payment to a payer device's sheet; false when the payer cannot be reached.</summary>
    public async Task<bool> OfferAsync(string device)
    {
        try
        {
            await grains.GetGrain<IPaymentAbilityGrain>(device).OfferAsync(paymentId);
            return true;
        }
        catch (Exception exception) when (exception is PayerOfflineException or SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
        {
            LogPayerUnreachable(logger, paymentId, device, exception.GetType().Name);
            return false;
        }
    }

    /// <summary>Best effort and one-way: the sheet also closes itself at the deadline, and an offline payer has nothing to close.</summary>
    public void Close(string device) => grains.GetGrain<IPaymentAbilityGrain>(device).CloseAsync(paymentId).Ignore();

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: charge outcome unknown, retrying")]
    private static partial void LogChargeRetry(ILogger logger, Exception exception, string paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: payer device {PayerDeviceId} is unreachable ({Reason})")]
    private static partial void LogPayerUnreachable(ILogger logger, string paymentId, string payerDeviceId, string reason);
}
