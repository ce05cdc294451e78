using Handoff.Contracts;
using Handoff.Grains.Payments;
using Handoff.Grains.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Handoff.Grains;

/// <summary>The single authority for one payment: validates, offers, authorizes, charges once, reports.</summary>
/// <remarks>
/// Each call loads the record, has the <see cref="PaymentGuard"/> check the caller, asks the
/// <see cref="PaymentLifecycle"/> what follows, saves the transitions (<see cref="PaymentNotifier"/> tells the
/// world) and runs the effects. The record is read on first use, not at activation: a new payment is created
/// (<see cref="PaymentCreation"/>) with one write that the store accepts only when no record exists, so the common
/// case (a fresh payment) costs no read.
/// </remarks>
public sealed class PaymentRequestGrain(
    [FromKeyedServices(HandoffOptions.StorageName)] IGrainStorage storage,
    ReminderRowWriter recoveryRows,
    EndedReminderRows endedRows,
    TimeProvider time,
    FaultPoints faults,
    IOptions<HandoffOptions> options,
    ILogger<PaymentRequestGrain> logger) : Grain, IPaymentRequestGrain, IRemindable
{
    /// <summary>The state name of the record (the one <c>[PersistentState("payment")]</c> used: the same rows).</summary>
    internal const string RecordName = "payment";

    private LazyState<PaymentRecord> _record = null!;
    private PaymentLifecycle _lifecycle = null!;
    private PaymentGuard _guard = null!;
    private PaymentNotifier _notifier = null!;
    private PaymentTimers _timers = null!;
    private PaymentCalls _calls = null!;
    private PaymentCreation _creation = null!;

    private string PaymentId => this.GetPrimaryKeyString();

    private PaymentRecord State => _record.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        _record = new LazyState<PaymentRecord>(storage, RecordName, this.GetGrainId());
        _lifecycle = new PaymentLifecycle(settings.RecoveryInterval);
        _guard = new PaymentGuard(GrainFactory, settings, PaymentId);
        _notifier = new PaymentNotifier(PaymentId, RuntimeIdentity, time, logger);
        _timers = new PaymentTimers(this, recoveryRows, endedRows, time, settings.RecoveryInterval, logger);
        _calls = new PaymentCalls(GrainFactory, faults, PaymentId, logger);
        _creation = new PaymentCreation(_guard, _timers, _record, settings, time);
        return Task.CompletedTask;
    }

    public async Task<PaymentSnapshot> CreateAsync(PaymentRequestInput input)
    {
        if ((_record.Loaded && State.Exists) || !await _creation.TryCreateAsync(input, EnsureLoadedAsync, RecoverAsync))
        {
            return await CreateAgainAsync(input);
        }

        await OfferAsync(PaymentLifecycle.FirstOffer(State));
        await GrainFactory.GetGrain<IHouseholdGrain>(input.HouseholdId).NotePaymentAsync(PaymentId);
        return State.ToSnapshot(PaymentId);
    }

    /// <summary>The same request again: the same payment, finished offering if a crash stopped it at Created.</summary>
    private async Task<PaymentSnapshot> CreateAgainAsync(PaymentRequestInput input)
    {
        await _guard.RequireSameRequestAsync(State, input);
        if (State.State == PaymentState.Created)
        {
            // A retry after a crash between saving Created and saving Offered: finish the offer.
            await OfferAsync(PaymentLifecycle.FirstOffer(State));
        }

        return State.ToSnapshot(PaymentId);
    }

    /// <summary>Drives an unfinished payment forward after a crash or restart: expire, re-offer or finish the charge.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => RecoverAsync();

    public async Task<PaymentSnapshot> GetAsync()
    {
        await EnsureLoadedAsync();
        _guard.RequireExisting(State);
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

        var device = _guard.RequireOfferReader(State);
        return Task.FromResult(State.ToOffer(PaymentId, device));
    }

    public async Task<PaymentSnapshot> AuthorizeAsync(PaymentApproval approval)
    {
        await EnsureLoadedAsync();
        var approve = await _guard.RequireApprovalAsync(State, approval);
        await DecideAsync(new PaymentCommand.CheckDeadline());
        await DecideAsync(approve);
        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> DeclineAsync(string payerDeviceId, string reason, byte[] signature)
    {
        await EnsureLoadedAsync();
        var guardian = await _guard.RequireDeclineAsync(State, payerDeviceId, reason, signature);
        await DecideAsync(new PaymentCommand.Decline(payerDeviceId, reason, guardian));
        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> CancelAsync(string deviceId, byte[] signature)
    {
        await EnsureLoadedAsync();
        await _guard.RequireCancelAsync(State, deviceId, signature);
        await DecideAsync(new PaymentCommand.Cancel(deviceId));
        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> RefundAsync(RefundInput input)
    {
        await EnsureLoadedAsync();
        var signed = await _guard.RequireRefundAsync(State, input);
        await DecideAsync(new PaymentCommand.Refund(input.RefundKey, input.Amount, signed));
        return State.ToSnapshot(PaymentId);
    }

    public async Task<PaymentSnapshot> SubscribeAsync(IPaymentObserver observer)
    {
        await EnsureLoadedAsync();
        _guard.RequireExisting(State);
        if (!State.State.IsTerminal())
        {
            _notifier.Subscribe(observer);
        }

        return State.ToSnapshot(PaymentId);
    }

    public Task UnsubscribeAsync(IPaymentObserver observer)
    {
        _notifier.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    /// <summary>Reads the record unless this activation has it, and resumes what an unfinished payment was doing.</summary>
    private async ValueTask EnsureLoadedAsync()
    {
        if (await _record.LoadAsync())
        {
            _notifier.Loaded(State);
            await DecideAsync(new PaymentCommand.Resume());
        }
    }

    private async Task RecoverAsync()
    {
        await EnsureLoadedAsync();
        await DecideAsync(new PaymentCommand.Recover());
    }

    /// <summary>Asks the lifecycle what <paramref name="command"/> does, saves its transitions, runs its effects.</summary>
    private async Task DecideAsync(PaymentCommand command)
    {
        var decision = _lifecycle.Decide(PaymentId, State, command, time.GetUtcNow());
        if (decision.Effects.Any(effect => effect is PaymentEffect.KeepRecovering))
        {
            // As for a new payment: the reminder exists before what it is to finish does.
            await _timers.StartRecoveryAsync(options.Value.RecoveryInterval, RecoverAsync);
        }

        if (decision.ChangesRecord)
        {
            State.Apply(decision);
            await _notifier.SaveAndNotifyAsync(State, _record.WriteAsync);
        }

        foreach (var effect in decision.Effects.Where(effect => effect is not PaymentEffect.KeepRecovering))
        {
            await RunAsync(effect);
        }
    }

    private Task RunAsync(PaymentEffect effect) => effect switch
    {
        PaymentEffect.OfferTo offer => OfferAsync(offer),
        PaymentEffect.CloseOn close => Done(() => _calls.Close(close.Device)),
        PaymentEffect.NoteRefundOn note => Done(() => _calls.NoteRefund(note.Device)),
        PaymentEffect.Charge charge => ChargeAsync(charge.Request),
        PaymentEffect.RetryCharge retry => Done(() => _timers.ArmChargeRetry(retry.Due, RetryChargeAsync)),
        PaymentEffect.BookRefund refund => _calls.BookRefundAsync(State.Input!.HouseholdId, refund.Key, refund.Request, DecideAsync),
        PaymentEffect.RetryRefunds retry => Done(() => _timers.ArmChargeRetry(retry.Due, () => DecideAsync(new PaymentCommand.Recover()))),
        PaymentEffect.ArmDeadline deadline => Done(() => _timers.ArmDeadline(deadline.At, () => DecideAsync(new PaymentCommand.CheckDeadline()))),
        PaymentEffect.ArmRecovery recovery => Done(() => _timers.ArmRecovery(recovery.Due, RecoverAsync)),
        PaymentEffect.EndRecovery => _timers.StopAsync(),
        _ => throw new InvalidOperationException($"no runner for effect {effect}"),
    };

    private static Task Done(Action arm)
    {
        arm();
        return Task.CompletedTask;
    }

    private Task RetryChargeAsync() =>
        State.State == PaymentState.Charging ? ChargeAsync(PaymentLifecycle.ChargeFor(PaymentId, State)) : Task.CompletedTask;

    /// <summary>Offers the payment to its payer devices at once; when none is online, a requester waiting for the
    /// answer gets "payer offline" and the request is forgotten, while recovery keeps it until its deadline.</summary>
    private async Task OfferAsync(PaymentEffect.OfferTo offer)
    {
        var reached = await Task.WhenAll(offer.Devices.Select(async device => (device, shown: await _calls.OfferAsync(device))));
        var shownOn = reached.Where(result => result.shown).Select(result => result.device).ToList();
        if (shownOn.Count == 0)
        {
            if (offer.ForgetIfOffline)
            {
                // Nothing was shown anywhere: forget the request, so the same order can be retried once the payer is back.
                await _timers.StopAsync();
                await _record.ClearAsync();
                DeactivateOnIdle();
                throw new PayerOfflineException(PayerChoice.Of(offer.Devices));
            }

            return;
        }

        if (State.State == PaymentState.Created)
        {
            await faults.ReachedAsync(FaultPoints.OfferedNotSaved);
        }

        await DecideAsync(new PaymentCommand.Shown(shownOn));
    }

    private async Task ChargeAsync(ChargeRequest charge) => await DecideAsync(await _calls.ChargeAsync(State.Input!.HouseholdId, charge));
}
