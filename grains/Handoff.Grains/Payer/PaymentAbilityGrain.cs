using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Placement;
using Microsoft.Extensions.Logging;

namespace Handoff.Grains.Payer;

/// <summary>
/// The payment program of one payer device, placed on that device's own silo. It shows a payment on the
/// device's sheet as the payment's authority states it (asked as this device, the only one it tells the
/// nonce), and takes it off once the authority says it ended. It trusts nothing its caller sends but a
/// payment id; the person's verification happens in <see cref="PayerVerification"/>, never through a grain.
/// </summary>
[DeviceAffinityPlacement]
public sealed partial class PaymentAbilityGrain(
    IPaymentSheet sheet,
    DeviceSessions sessions,
    ILogger<PaymentAbilityGrain> logger) : Grain, IPaymentAbilityGrain
{
    private string DeviceId => this.GetPrimaryKeyString();

    public async Task OfferAsync(string paymentId)
    {
        if (sheet.Shows(paymentId))
        {
            // Offered again by the authority's recovery: the sheet already shows it.
            return;
        }

        var offer = await sessions.CallAsync(DeviceId, () => Authority(paymentId).GetOfferAsync());
        if (offer.PayerDeviceId != DeviceId || offer.PaymentId != paymentId)
        {
            throw new ForbiddenException($"payment '{paymentId}' is not for device '{DeviceId}'");
        }

        using var span = Telemetry.HandoffTraces.OfferShown(offer, RuntimeIdentity);
        await sheet.ShowAsync(offer);
        LogShown(logger, offer.PaymentId, DeviceId);
    }

    public async Task CloseAsync(string paymentId)
    {
        if (!sheet.Shows(paymentId))
        {
            return;
        }

        // Anyone may say a payment ended; only its authority's word takes it off the sheet.
        var payment = await sessions.CallAsync(DeviceId, () => Authority(paymentId).GetAsync());
        if (payment.IsTerminal)
        {
            // Offered to several devices and paid on another: this sheet says where.
            var paidElsewhere = payment.Payer is { } payer && payer != DeviceId ? $"paid on {payer}" : null;
            sheet.Close(paymentId, payment.State, payment.FailureReason ?? paidElsewhere);
        }
    }

    public async Task NoteRefundAsync(string paymentId)
    {
        // Anyone may say money came back; only the authority's record, read as this device, says how much.
        var payment = await sessions.CallAsync(DeviceId, () => Authority(paymentId).GetAsync());
        if (payment.Payer == DeviceId && payment.Refunded > 0)
        {
            sheet.Refunded(payment);
        }
    }

    private IPaymentRequestGrain Authority(string paymentId) => GrainFactory.GetGrain<IPaymentRequestGrain>(paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} shown on device {DeviceId}")]
    private static partial void LogShown(ILogger logger, string paymentId, string deviceId);
}
