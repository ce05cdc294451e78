using System.Security.Cryptography;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Utilities;

namespace Handoff.Grains;

/// <summary>The single authority for one payment: validates, offers, authorizes, charges once, reports.</summary>
/// <remarks>
/// The record is read on first use, not at activation: a new payment is created with one write that the store
/// accepts only when no record exists, so the common case (a fresh payment) costs no read at all.
/// </remarks>
public sealed partial class PaymentRequestGrain(
    [FromKeyedServices(HandoffOptions.StorageName)] IGrainStorage storage,
    ReminderRowWriter recoveryRows,
    EndedReminderRows endedRows,
    TimeProvider time,
    FaultPoints faults,
    IOptions<HandoffOptions> options,
    ILogger<PaymentRequestGrain> logger) : Grain, IPaymentRequestGrain, IRemindable
{
    private const string Hub = "hub";
    private const string RecoveryReminder = "recovery";

    /// <summary>The state name of the record (the one <c>[PersistentState("payment")]</c> used: the same rows).</summary>
    internal const string RecordName = "payment";

    private readonly ObserverManager<IPaymentObserver> _observers = new(TimeSpan.FromMinutes(5), logger)
    {
        GetDateTime = () => time.GetUtcNow().UtcDateTime,
    };

    private IGrainTimer? _deadlineTimer;
    private IGrainTimer? _chargeRetryTimer;
    private IGrainTimer? _recoveryTimer;
    private int _notifiedVersion;
    private LazyState<PaymentRecord> _record = null!;

    // The etag of the recovery row this activation wrote itself, so it can delete the row without asking for it.
    private string? _recoveryRowEtag;

    private string PaymentId => this.GetPrimaryKeyString();

    private PaymentRecord State => _record.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _record = new LazyState<PaymentRecord>(storage, RecordName, this.GetGrainId());
        return Task.CompletedTask;
    }

    /// <summary>Reads the record unless this activation has it, and resumes what an unfinished payment was doing.</summary>
    private async ValueTask EnsureLoadedAsync()
    {
        if (await _record.LoadAsync())
        {
            Resume();
        }
    }

    private void Resume()
    {
        _notifiedVersion = State.History.Count;
        if (State.Exists && !State.State.IsTerminal())
        {
            ArmRecovery(options.Value.RecoveryInterval);
        }

        if (State.Exists && State.State.AwaitsVerification())
        {
            ArmDeadline();
        }
        else if (State.State == PaymentState.Charging)
        {
            // A charge was in flight when the last activation ended: the ledger is idempotent, so finish it.
            ArmChargeRetry(TimeSpan.Zero);
        }
    }

    public async Task<PaymentSnapshot> CreateAsync(PaymentRequestInput input)
    {
        if (_record.Loaded && State.Exists)
        {
            return await CreateAgainAsync(input);
        }

        DeviceStatus initiator;
        try
        {
            initiator = await AcceptNewAsync(input);
        }
        catch (HandoffException)
        {
            // Not read yet: a retry of an existing payment is answered from its record, as it was the first time.
            await EnsureLoadedAsync();
            if (!State.Exists)
            {
                throw;
            }

            return await CreateAgainAsync(input);
        }

        var now = time.GetUtcNow();
        var expiry = input.ExpiresIn ?? options.Value.DefaultExpiry;
        var created = new PaymentRecord
        {
            Input = input,
            InitiatorName = initiator.DisplayName,
            CreatedAt = now,
            Deadline = now + expiry,
            Nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            History = [new PaymentTransition(PaymentState.Created, PaymentState.Created, now, input.InitiatorDeviceId, "requested")],
        };

        // The recovery reminder exists before the payment does: whatever crashes next, the payment gets driven to an end.
        await WriteRecoveryRowAsync(now, expiry);
        if (_record.Loaded || !await _record.TryCreateAsync(created))
        {
            // A record is there (a retry this activation had not read) or was cleared (the payer was offline).
            await EnsureLoadedAsync();
            if (State.Exists)
            {
                if (State.State.IsTerminal())
                {
                    // The row just written belongs to nothing that can still move.
                    await StopRecoveryAsync();
                }

                return await CreateAgainAsync(input);
            }

            _record.Replace(created);
            await _record.WriteAsync();
        }

        await OfferAsync();
        await GrainFactory.GetGrain<IHouseholdGrain>(input.HouseholdId).NotePaymentAsync(PaymentId);
        return State.ToSnapshot(PaymentId);
    }

    /// <summary>The same request again: the same payment, finished offering if a crash stopped it at Created.</summary>
    private async Task<PaymentSnapshot> CreateAgainAsync(PaymentRequestInput input)
    {
        RequireExisting();
        RequireCaller(input.InitiatorDeviceId);
        await RequireSignatureAsync(input.InitiatorDeviceId, Signing.Request(input), input.Signature, "request");
        if (!State.SameRequestAs(input))
        {
            throw new ConflictException($"order key '{input.OrderKey}' is already used by payment '{PaymentId}' with different content");
        }

        // A retry after a crash between saving Created and saving Offered: finish the offer.
        if (State.State == PaymentState.Created)
        {
            await OfferAsync();
        }

        return State.ToSnapshot(PaymentId);
    }

    /// <summary>Checks a request for a new payment: its fields, its household, its devices and its signature.</summary>
    private async Task<DeviceStatus> AcceptNewAsync(PaymentRequestInput input)
    {
        Validation.RequirePayment(input, options.Value);
        if (!CallerContext.MayAccess(input.HouseholdId))
        {
            throw new NotFoundException($"no household '{input.HouseholdId}' for this device");
        }

        RequireCaller(input.InitiatorDeviceId);

        if (PaymentIds.For(input.HouseholdId, input.InitiatorDeviceId, input.OrderKey) != PaymentId)
        {
            throw new ValidationException("paymentId", $"'{PaymentId}' is not the id of this order key");
        }

        var (initiator, _) = await CheckDevicesAsync(input);
        if (!Signing.Verify(initiator.PublicKey, Signing.Request(input), input.Signature))
        {
            throw new ForbiddenException($"the request is not signed by initiator '{input.InitiatorDeviceId}'");
        }

        return initiator;
    }

    /// <summary>Drives an unfinished payment forward after a crash or restart: expire, re-offer or finish the charge.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => RecoverAsync();

    private async Task RecoverAsync()
    {
        await EnsureLoadedAsync();
        if (!State.Exists || State.State.IsTerminal())
        {
            await StopRecoveryAsync();
            return;
        }

        await ExpireIfDueAsync();
        try
        {
            switch (State.State)
            {
                case PaymentState.Created:
                    await OfferAsync(forgetIfOffline: false);
                    break;
                case PaymentState.Offered or PaymentState.Displayed:
                    // The payer agent may have restarted and lost its sheet; offering again is idempotent.
                    await GrainFactory.GetGrain<IPaymentAbilityGrain>(State.Input!.PayerDeviceId).OfferAsync(PaymentId);
                    if (State.State == PaymentState.Offered)
                    {
                        // Only a record saved by an earlier version stops at Offered: now both steps are saved together.
                        await MoveAsync(PaymentState.Displayed, State.Input.PayerDeviceId, "sheet shown on payer device");
                    }

                    break;
                case PaymentState.Authorized or PaymentState.Charging:
                    await ChargeAsync();
                    break;
            }
        }
        catch (Exception exception) when (PayerUnreachable(exception))
        {
            // The payer is away: the deadline still ends the payment.
        }
    }

    public async Task<PaymentSnapshot> GetAsync()
    {
        await EnsureLoadedAsync();
        RequireExisting();
        return State.ToSnapshot(PaymentId);
    }

    public Task<PaymentOffer> GetOfferAsync()
    {
        // Interleaved, so it must not read the record: a read racing the create could replace what is being
        // written. An activation that has not loaded it is not offering anything, so there is nothing to show.
        if (!_record.Loaded)
        {
            throw new NotFoundException($"payment '{PaymentId}' is not being offered");
        }

        var input = RequireExisting();

        // The nonce is for the payer's sheet alone: no other device, not even the hub's own pages, reads it here.
        if (CallerContext.Device != input.PayerDeviceId)
        {
            throw new ForbiddenException($"only payer device '{input.PayerDeviceId}' is shown payment '{PaymentId}'");
        }

        return Task.FromResult(State.ToOffer(PaymentId));
    }

    public async Task<PaymentSnapshot> AuthorizeAsync(PaymentApproval approval)
    {
        await EnsureLoadedAsync();
        RequirePayer(approval.PayerDeviceId);
        await ExpireIfDueAsync();
        if (approval.PaymentId != PaymentId || approval.Nonce != State.Nonce)
        {
            throw new ForbiddenException($"approval does not match the transaction of payment '{PaymentId}'");
        }

        // Only the paired payer's key over the exact transaction it displayed counts.
        await RequireSignatureAsync(approval.PayerDeviceId, Signing.Approval(State.ToOffer(PaymentId), approval.Method), approval.Signature, "approval");

        if (State.State.IsTerminal())
        {
            throw State.State == PaymentState.Completed
                ? new IllegalTransitionException(PaymentId, State.State, PaymentState.Authorized)
                : PaymentNotCompletedException.For(State.ToSnapshot(PaymentId));
        }

        if (approval.Method == AuthMethod.Biometric)
        {
            await RequireBiometricAsync(approval);
        }

        var now = time.GetUtcNow();
        State.Move(PaymentId, PaymentState.Authorized, now, approval.PayerDeviceId, $"verified by {(approval.Method == AuthMethod.Pin ? "PIN" : "biometric")} on payer device");
        State.Move(PaymentId, PaymentState.Charging, now, Hub, "charge sent to ledger");
        await SaveAndNotifyAsync();
        await ChargeAsync();
        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> DeclineAsync(string payerDeviceId, string reason, byte[] signature)
    {
        await EnsureLoadedAsync();
        RequirePayer(payerDeviceId);
        await RequireSignatureAsync(payerDeviceId, Signing.Decline(PaymentId, payerDeviceId, State.Nonce, reason), signature, "decline");
        if (State.State != PaymentState.Declined)
        {
            await MoveAsync(PaymentState.Declined, payerDeviceId, reason);
        }

        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> CancelAsync(string deviceId, byte[] signature)
    {
        await EnsureLoadedAsync();
        var input = RequireExisting();
        RequireCaller(deviceId);
        if (deviceId != input.InitiatorDeviceId && deviceId != input.PayerDeviceId)
        {
            throw new ForbiddenException($"device '{deviceId}' is not a party to payment '{PaymentId}'");
        }

        await RequireSignatureAsync(deviceId, Signing.Cancel(PaymentId, deviceId), signature, "cancellation");

        if (State.State != PaymentState.Cancelled)
        {
            await MoveAsync(PaymentState.Cancelled, deviceId, $"cancelled on {deviceId}");
            CloseOnPayer();
        }

        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> SubscribeAsync(IPaymentObserver observer)
    {
        await EnsureLoadedAsync();
        RequireExisting();
        if (!State.State.IsTerminal())
        {
            _observers.Subscribe(observer, observer);
        }

        return State.ToSnapshot(PaymentId);
    }

    public Task UnsubscribeAsync(IPaymentObserver observer)
    {
        _observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    /// <summary>Offers the payment to the payer; when the payer is offline, a requester waiting for the answer gets
    /// "payer offline" and the request is forgotten, while recovery keeps it until its deadline.</summary>
    private async Task OfferAsync(bool forgetIfOffline = true)
    {
        var input = State.Input!;
        try
        {
            await GrainFactory.GetGrain<IPaymentAbilityGrain>(input.PayerDeviceId).OfferAsync(PaymentId);
        }
        catch (Exception exception) when (PayerUnreachable(exception) && forgetIfOffline)
        {
            // Nothing was shown anywhere: forget the request, so the same order can be retried once the payer is back.
            LogPayerOffline(logger, PaymentId, input.PayerDeviceId);
            await StopRecoveryAsync();
            await _record.ClearAsync();
            DeactivateOnIdle();
            throw exception as PayerOfflineException ?? new PayerOfflineException(input.PayerDeviceId);
        }

        // The offer returns once the payer's sheet shows it: both steps are recorded, and saved, together.
        await faults.ReachedAsync(FaultPoints.OfferedNotSaved);
        var now = time.GetUtcNow();
        State.Move(PaymentId, PaymentState.Offered, now, input.PayerDeviceId, "sheet pushed to payer device");
        State.Move(PaymentId, PaymentState.Displayed, now, input.PayerDeviceId, "sheet shown on payer device");
        await SaveAndNotifyAsync();
        ArmDeadline();
    }

    /// <summary>
    /// Writes the payment's recovery reminder straight into the reminder table, before the payment is saved.
    /// Orleans' reminder service picks the row up when it next reads the table (at start, then every minute),
    /// so after a crash the restarted hub drives the payment on. While this activation lives, its own recovery
    /// timer does the same, and a payment that ends first has the row removed before the service ever loads it
    /// (by <see cref="EndedReminderRows"/>, many rows per transaction): the common, short payment costs a share
    /// of one batched write (<see cref="ReminderRowWriter"/>), a share of one batched delete, and no
    /// reminder-service work at all.
    /// </summary>
    private async Task WriteRecoveryRowAsync(DateTimeOffset now, TimeSpan expiry)
    {
        var interval = options.Value.RecoveryInterval;
        var first = expiry < interval ? expiry : interval;
        _recoveryRowEtag = await recoveryRows.UpsertAsync(new ReminderEntry
        {
            GrainId = this.GetGrainId(),
            ReminderName = RecoveryReminder,
            StartAt = (now + first).UtcDateTime,
            Period = interval,
        });
        ArmRecovery(first);
    }

    private void ArmRecovery(TimeSpan due)
    {
        _recoveryTimer?.Dispose();
        _recoveryTimer = this.RegisterGrainTimer(
            RecoverAsync,
            new GrainTimerCreationOptions(due, options.Value.RecoveryInterval) { KeepAlive = true });
    }

    private async Task StopRecoveryAsync()
    {
        _recoveryTimer?.Dispose();
        _recoveryTimer = null;
        if (_recoveryRowEtag is { } etag)
        {
            // Written by this activation: removing exactly that version is clean-up, done in the background.
            endedRows.Remove(this.GetGrainId(), RecoveryReminder, etag);
            _recoveryRowEtag = null;
            return;
        }

        try
        {
            // Not written by this activation (or changed since): the reminder service may hold it, so ask it.
            if (await this.GetReminder(RecoveryReminder) is { } recovery)
            {
                await this.UnregisterReminder(recovery);
            }
        }
        catch (ReminderException exception)
        {
            // Already gone, or changed by another activation: the next tick finds the payment ended and retries.
            LogReminderNotRemoved(logger, exception, PaymentId);
        }
    }

    private async Task ChargeAsync()
    {
        var input = State.Input!;
        var charge = new ChargeRequest(
            PaymentId,
            LedgerAccounts.PayerAccount(input.PayerDeviceId),
            LedgerAccounts.MerchantAccount(input.Info.Merchant),
            input.Info.Amount,
            input.Info.Currency);
        try
        {
            await faults.ReachedAsync(FaultPoints.AuthorizedNotCharged);
            var entry = await GrainFactory.GetGrain<ILedgerGrain>(input.HouseholdId).ChargeAsync(charge);
            await faults.ReachedAsync(FaultPoints.ChargedNotCompleted);
            await MoveAsync(PaymentState.Completed, Hub, $"charged, ledger entry {entry.Sequence}");
        }
        catch (HandoffException refused)
        {
            await MoveAsync(PaymentState.Failed, Hub, $"ledger refused the charge: {refused.Message}");
        }
        catch (Exception exception) when (exception is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            // The charge may or may not have landed; the ledger answers the same payment id with the same entry, so retry.
            LogChargeRetry(logger, exception, PaymentId);
            ArmChargeRetry(TimeSpan.FromSeconds(1));
        }
    }

    private void ArmChargeRetry(TimeSpan due)
    {
        _chargeRetryTimer?.Dispose();
        _chargeRetryTimer = this.RegisterGrainTimer(
            async () =>
            {
                _chargeRetryTimer?.Dispose();
                _chargeRetryTimer = null;
                if (State.State == PaymentState.Charging)
                {
                    await ChargeAsync();
                }
            },
            new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task<(DeviceStatus Initiator, DeviceStatus Payer)> CheckDevicesAsync(PaymentRequestInput input)
    {
        var initiator = await DeviceInHouseholdAsync(input.InitiatorDeviceId, input.HouseholdId, "initiator");
        var payer = await DeviceInHouseholdAsync(input.PayerDeviceId, input.HouseholdId, "payer");
        if (payer.Role != DeviceRole.Payer || !payer.Capabilities.CanPay)
        {
            throw new NotCapableException(payer.DeviceId, $"device '{payer.DeviceId}' cannot pay");
        }

        return (initiator, payer);
    }

    private async Task<DeviceStatus> DeviceInHouseholdAsync(string deviceId, string householdId, string field)
    {
        var device = await GrainFactory.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync();

        // A device of another household is reported exactly like an unknown one: households learn nothing of each other.
        return device is not null && device.HouseholdId == householdId
            ? device
            : throw new NotFoundException($"{field}: no device '{deviceId}' in household '{householdId}'");
    }

    private async Task MoveAsync(PaymentState to, string device, string cause)
    {
        State.Move(PaymentId, to, time.GetUtcNow(), device, cause);
        await SaveAndNotifyAsync();
    }

    private async Task SaveAndNotifyAsync()
    {
        using var spans = Telemetry.HandoffTraces.Transitions(PaymentId, State, _notifiedVersion, RuntimeIdentity);
        await _record.WriteAsync();
        var snapshot = State.ToSnapshot(PaymentId);
        foreach (var step in snapshot.History.Skip(_notifiedVersion))
        {
            // The first step records the creation (Created to Created): it is no transition, so it is logged as what it is.
            if (step.From == step.To)
            {
                LogCreated(logger, PaymentId, step.Device, step.Cause);
            }
            else
            {
                LogTransition(logger, PaymentId, step.From, step.To, step.Cause);
            }
        }

        _notifiedVersion = snapshot.Version;
        await _observers.Notify(observer => observer.OnPaymentUpdatedAsync(snapshot));
        if (snapshot.IsTerminal)
        {
            // The last push went out: nothing more will change, so nobody needs to stay subscribed.
            _observers.Clear();
            _deadlineTimer?.Dispose();
            _deadlineTimer = null;
            await StopRecoveryAsync();
        }
    }

    private void ArmDeadline()
    {
        var due = State.Deadline - time.GetUtcNow();
        _deadlineTimer?.Dispose();
        _deadlineTimer = this.RegisterGrainTimer(
            ExpireIfDueAsync,
            new GrainTimerCreationOptions(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task ExpireIfDueAsync()
    {
        if (State.Exists && State.State.AwaitsVerification() && time.GetUtcNow() >= State.Deadline)
        {
            await MoveAsync(PaymentState.Expired, Hub, "not verified before the deadline");
            CloseOnPayer();
        }
    }

    private void CloseOnPayer()
    {
        // Best effort and one-way: the sheet also closes itself at the deadline, and an offline payer has nothing to close.
        GrainFactory.GetGrain<IPaymentAbilityGrain>(State.Input!.PayerDeviceId).CloseAsync(PaymentId).Ignore();
    }

    /// <summary>Refuses a statement unless the device, still paired, signed exactly these bytes.</summary>
    private async Task RequireSignatureAsync(string deviceId, byte[] statement, byte[]? signature, string what)
    {
        var device = await GrainFactory.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync();
        if (!Signing.Verify(device?.PublicKey, statement, signature))
        {
            throw new ForbiddenException($"the {what} for payment '{PaymentId}' is not signed by device '{deviceId}'");
        }
    }

    /// <summary>
    /// Refuses a biometric approval unless the payer's platform credential asserted, with the person verified, over
    /// this transaction as this record has it: the challenge is computed here, never taken from the device.
    /// </summary>
    private async Task RequireBiometricAsync(PaymentApproval approval)
    {
        if (approval.Assertion is not { } assertion)
        {
            throw new ForbiddenException($"the biometric approval of payment '{PaymentId}' carries no WebAuthn assertion");
        }

        var challenge = Signing.ApprovalChallenge(State.ToOffer(PaymentId));
        await GrainFactory.GetGrain<IDeviceGrain>(approval.PayerDeviceId).VerifyWebAuthnAssertionAsync(assertion, challenge);
    }

    private PaymentRequestInput RequireExisting() =>
        State.Input is { } input && CallerContext.MayAccess(input.HouseholdId)
            ? input
            : throw new NotFoundException($"payment '{PaymentId}' does not exist");

    /// <summary>Refuses a call that speaks for <paramref name="deviceId"/> unless its verified caller is that device, or the hub.</summary>
    private void RequireCaller(string deviceId)
    {
        if (!CallerContext.IsDeviceOrAuthority(deviceId))
        {
            throw new ForbiddenException($"the caller is '{CallerContext.Device}', not device '{deviceId}'");
        }
    }

    private void RequirePayer(string deviceId)
    {
        RequireCaller(deviceId);
        if (RequireExisting().PayerDeviceId != deviceId)
        {
            throw new ForbiddenException($"device '{deviceId}' is not the payer of payment '{PaymentId}'");
        }
    }

    private static bool PayerUnreachable(Exception exception) =>
        exception is PayerOfflineException or SiloUnavailableException or TimeoutException or OrleansMessageRejectionException;

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: Created by {Device} ({Cause})")]
    private static partial void LogCreated(ILogger logger, string paymentId, string device, string cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: {From} -> {To} ({Cause})")]
    private static partial void LogTransition(ILogger logger, string paymentId, PaymentState from, PaymentState to, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: its recovery reminder could not be removed")]
    private static partial void LogReminderNotRemoved(ILogger logger, Exception exception, string paymentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: charge outcome unknown, retrying")]
    private static partial void LogChargeRetry(ILogger logger, Exception exception, string paymentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} refused: payer device {PayerDeviceId} is offline")]
    private static partial void LogPayerOffline(ILogger logger, string paymentId, string payerDeviceId);
}
