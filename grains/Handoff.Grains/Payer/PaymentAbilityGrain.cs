using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Handoff.Grains.Payer;

/// <summary>
/// The payment program of one payer device. Placed on that device's own silo; it shows each offer
/// on the device's sheet, verifies the person there and sends the approval to the payment's authority.
/// </summary>
[DeviceAffinityPlacement]
public sealed partial class PaymentAbilityGrain(
    IPaymentSheet sheet,
    IUserVerifier verifier,
    IDeviceSigner signer,
    TimeProvider time,
    FaultPoints faults,
    IOptions<HandoffOptions> options,
    ILogger<PaymentAbilityGrain> logger) : Grain, IPaymentAbilityGrain
{
    private readonly Dictionary<string, Pending> _pending = [];

    private string DeviceId => this.GetPrimaryKeyString();

    public async Task OfferAsync(PaymentOffer offer)
    {
        if (offer.PayerDeviceId != DeviceId)
        {
            throw new ForbiddenException($"offer for '{offer.PayerDeviceId}' sent to device '{DeviceId}'");
        }

        if (_pending.ContainsKey(offer.PaymentId))
        {
            // Offered again by the authority's recovery: the sheet already shows it.
            return;
        }

        _pending[offer.PaymentId] = new Pending(offer);
        DelayDeactivation(offer.Deadline - time.GetUtcNow() + TimeSpan.FromMinutes(1));
        using var span = Telemetry.HandoffTraces.OfferShown(offer, RuntimeIdentity);
        await sheet.ShowAsync(offer);
        LogShown(logger, offer.PaymentId, DeviceId);
    }

    public Task<IReadOnlyList<PaymentOffer>> GetPendingAsync()
    {
        DropExpired();
        return Task.FromResult<IReadOnlyList<PaymentOffer>>([.. _pending.Values.Select(pending => pending.Offer)]);
    }

    public async Task<VerificationResult> ApproveWithPinAsync(string paymentId, string pin)
    {
        DropExpired();
        if (!_pending.TryGetValue(paymentId, out var pending))
        {
            return await NotPendingAsync(paymentId);
        }

        using var span = Telemetry.HandoffTraces.PinEntered(paymentId, DeviceId, RuntimeIdentity);
        var now = time.GetUtcNow();
        if (verifier.LockedUntil(DeviceId, now) is { } lockedUntil)
        {
            return new VerificationResult(VerificationOutcome.Locked, 0, null, lockedUntil);
        }

        if (!verifier.VerifyPin(DeviceId, pin))
        {
            pending.WrongPins++;
            var triesLeft = options.Value.MaxPinTries - pending.WrongPins;
            var locked = verifier.Failed(DeviceId, now, options.Value.PinLockoutAfter, options.Value.PinLockoutDuration);
            LogWrongPin(logger, paymentId, DeviceId, triesLeft);
            if (triesLeft <= 0)
            {
                var declined = await DeclineAsync(paymentId, $"{options.Value.MaxPinTries} wrong PIN entries");
                return declined with { LockedUntil = locked };
            }

            if (locked is not null)
            {
                sheet.WrongPin(paymentId, 0);
                return new VerificationResult(VerificationOutcome.Locked, triesLeft, null, locked);
            }

            sheet.WrongPin(paymentId, triesLeft);
            return new VerificationResult(VerificationOutcome.WrongPin, triesLeft, null);
        }

        verifier.Succeeded(DeviceId);
        return await ApproveAsync(pending, AuthMethod.Pin);
    }

    public async Task<VerificationResult> ApproveWithBiometricAsync(string paymentId)
    {
        DropExpired();
        if (!_pending.TryGetValue(paymentId, out var pending))
        {
            return await NotPendingAsync(paymentId);
        }

        // The platform's biometric check unlocked the device key; the assertion is the key's signature.
        return verifier.LockedUntil(DeviceId, time.GetUtcNow()) is { } lockedUntil
            ? new VerificationResult(VerificationOutcome.Locked, 0, null, lockedUntil)
            : await ApproveAsync(pending, AuthMethod.Biometric);
    }

    private async Task<VerificationResult> ApproveAsync(Pending pending, AuthMethod method)
    {
        var offer = pending.Offer;
        var approval = new PaymentApproval(offer.PaymentId, DeviceId, offer.Nonce, method, time.GetUtcNow())
        {
            Signature = signer.Sign(DeviceId, Signing.Approval(offer, method)),
        };
        await faults.ReachedAsync(FaultPoints.ApprovedNotSent);
        try
        {
            var payment = await Authority(offer.PaymentId).AuthorizeAsync(approval);
            return Finish(offer.PaymentId, VerificationOutcome.Approved, payment);
        }
        catch (PaymentNotCompletedException ended)
        {
            return Finish(offer.PaymentId, VerificationOutcome.NotPending, ended.Payment);
        }
    }

    public Task<VerificationResult> DeclineAsync(string paymentId) => DeclineAsync(paymentId, "declined on payer device");

    public Task CloseAsync(string paymentId, PaymentState finalState)
    {
        _pending.Remove(paymentId);
        sheet.Close(paymentId, finalState);
        return Task.CompletedTask;
    }

    private async Task<VerificationResult> DeclineAsync(string paymentId, string reason)
    {
        if (!_pending.TryGetValue(paymentId, out var pending))
        {
            return await NotPendingAsync(paymentId);
        }

        var signature = signer.Sign(DeviceId, Signing.Decline(paymentId, DeviceId, pending.Offer.Nonce, reason));
        var payment = await Authority(paymentId).DeclineAsync(DeviceId, reason, signature);
        return Finish(paymentId, VerificationOutcome.Declined, payment);
    }

    private VerificationResult Finish(string paymentId, VerificationOutcome outcome, PaymentSnapshot payment)
    {
        _pending.Remove(paymentId);
        sheet.Close(paymentId, payment.State);
        return new VerificationResult(outcome, 0, payment);
    }

    private async Task<VerificationResult> NotPendingAsync(string paymentId)
    {
        try
        {
            var payment = await Authority(paymentId).GetAsync();
            return new VerificationResult(VerificationOutcome.NotPending, 0, payment);
        }
        catch (NotFoundException)
        {
            return new VerificationResult(VerificationOutcome.NotPending, 0, null);
        }
    }

    private void DropExpired()
    {
        var now = time.GetUtcNow();
        foreach (var expired in _pending.Values.Where(pending => pending.Offer.Deadline <= now).ToList())
        {
            _pending.Remove(expired.Offer.PaymentId);
            sheet.Close(expired.Offer.PaymentId, PaymentState.Expired);
        }
    }

    private IPaymentRequestGrain Authority(string paymentId) => GrainFactory.GetGrain<IPaymentRequestGrain>(paymentId);

    private sealed class Pending(PaymentOffer offer)
    {
        public PaymentOffer Offer { get; } = offer;

        public int WrongPins { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} shown on device {DeviceId}")]
    private static partial void LogShown(ILogger logger, string paymentId, string deviceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: wrong PIN on device {DeviceId}, {TriesLeft} tries left")]
    private static partial void LogWrongPin(ILogger logger, string paymentId, string deviceId, int triesLeft);
}
