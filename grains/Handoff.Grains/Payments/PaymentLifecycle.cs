using Handoff.Contracts;

namespace Handoff.Grains.Payments;

/// <summary>What happened to a payment, or what its authority is asked to do with it.</summary>
public abstract record PaymentCommand
{
    /// <summary>The sheets of these payer devices show the payment (the offer reached them).</summary>
    public sealed record Shown(IReadOnlyList<string> Devices) : PaymentCommand;

    /// <summary>
    /// The person verified on the payer device; the guard checked the signature and the assertion. For a member's request
    /// that a guardian decides, <paramref name="Guardian"/> is the guardian and <paramref name="Signature"/> their device's
    /// signature over the guardian approval, both kept with the payment.
    /// </summary>
    /// <paramref name="Evidence"/> is what authorizes the charge (the request and this approval, signed), kept with the payment.
    public sealed record Approve(string Device, AuthMethod Method, ProgramFunding? Funding = null, PersonRef? Guardian = null, byte[]? Signature = null, ChargeEvidence? Evidence = null) : PaymentCommand;

    /// <summary>The person declined, or failed verification, on the payer device (<paramref name="By"/>: the guardian, for a member's request).</summary>
    public sealed record Decline(string Device, string Reason, PersonRef? By = null) : PaymentCommand;

    /// <summary>A party cancels.</summary>
    public sealed record Cancel(string Device) : PaymentCommand;

    /// <summary>Its deadline may have passed (a timer, or a step that checks first).</summary>
    public sealed record CheckDeadline : PaymentCommand;

    /// <summary>The ledger booked the charge.</summary>
    public sealed record Charged(long Sequence) : PaymentCommand;

    /// <summary>The ledger refused the charge.</summary>
    public sealed record ChargeRefused(string Reason) : PaymentCommand;

    /// <summary>The charge's outcome is unknown (a timeout, a silo gone): the ledger is idempotent, so ask again.</summary>
    public sealed record ChargeUncertain : PaymentCommand;

    /// <summary>
    /// The initiator asks to give back <paramref name="Amount"/> (null: all that is left) under <paramref name="Key"/>, as
    /// <paramref name="Signed"/> says (its signed refund, kept with the refund as its ledger entry's evidence).
    /// </summary>
    public sealed record Refund(string Key, decimal? Amount, SignedStatement? Signed = null) : PaymentCommand;

    /// <summary>The ledger booked the refund.</summary>
    public sealed record RefundBooked(string Key, long Sequence) : PaymentCommand;

    /// <summary>The ledger refused the refund: it is dropped, and its asker told why.</summary>
    public sealed record RefundRefused(string Key, string Reason) : PaymentCommand;

    /// <summary>The refund's outcome is unknown: the ledger books a reference once, so ask again.</summary>
    public sealed record RefundUncertain(string Key) : PaymentCommand;

    /// <summary>An activation read the record: pick up what an unfinished payment was doing.</summary>
    public sealed record Resume : PaymentCommand;

    /// <summary>The recovery reminder or timer fired: drive an unfinished payment to its end.</summary>
    public sealed record Recover : PaymentCommand;
}

/// <summary>What the authority does once the transitions of a decision are saved (in this order).</summary>
public abstract record PaymentEffect
{
    /// <summary>Offer the payment to these payer devices; when <paramref name="ForgetIfOffline"/> and none is
    /// reached, the request is forgotten and the requester told the payer is offline.</summary>
    public sealed record OfferTo(IReadOnlyList<string> Devices, bool ForgetIfOffline) : PaymentEffect;

    /// <summary>Tell the payer device that paid that money came back (best effort, one-way).</summary>
    public sealed record NoteRefundOn(string Device) : PaymentEffect;

    /// <summary>Close the sheet on a payer device (best effort, one-way).</summary>
    public sealed record CloseOn(string Device) : PaymentEffect;

    /// <summary>Ask the household's ledger to book this charge.</summary>
    public sealed record Charge(ChargeRequest Request) : PaymentEffect;

    /// <summary>Ask the ledger again after <paramref name="Due"/>.</summary>
    public sealed record RetryCharge(TimeSpan Due) : PaymentEffect;

    /// <summary>Before the decision is saved: make sure a recovery reminder will drive the payment on after a crash.</summary>
    public sealed record KeepRecovering : PaymentEffect;

    /// <summary>Ask the household's ledger to book this refund (a movement back, under the refund's own reference).</summary>
    public sealed record BookRefund(string Key, ChargeRequest Request) : PaymentEffect;

    /// <summary>Book the refunds not yet booked again after <paramref name="Due"/>.</summary>
    public sealed record RetryRefunds(TimeSpan Due) : PaymentEffect;

    /// <summary>End the payment when it is still unverified at <paramref name="At"/>.</summary>
    public sealed record ArmDeadline(DateTimeOffset At) : PaymentEffect;

    /// <summary>Drive the payment on every recovery interval, first after <paramref name="Due"/>.</summary>
    public sealed record ArmRecovery(TimeSpan Due) : PaymentEffect;

    /// <summary>The payment has ended: stop its timers and remove its recovery reminder.</summary>
    public sealed record EndRecovery : PaymentEffect;
}

/// <summary>
/// The transitions to save, the payment's refunds when they change (null when not), and the effects to run after
/// saving (<see cref="PaymentEffect.KeepRecovering"/> before).
/// </summary>
public sealed record PaymentDecision(
    IReadOnlyList<PaymentTransition> Transitions,
    IReadOnlyList<PaymentEffect> Effects,
    IReadOnlyList<PaymentRefund>? Refunds = null,
    ProgramFunding? Funding = null,
    GuardianApproval? Approval = null,
    ChargeEvidence? Evidence = null)
{
    public static PaymentDecision None { get; } = new([], []);

    /// <summary>Whether the record changes, so it must be saved.</summary>
    public bool ChangesRecord => Transitions.Count > 0 || Refunds is not null || Funding is not null || Approval is not null || Evidence is not null;
}

/// <summary>
/// The rules of one payment as a pure function: given the record, a command and the time, the transitions it makes
/// and the effects that follow. Nothing here calls anything; the grain loads, guards, saves and runs the effects.
/// The moves it may make are those of <see cref="PaymentStates.Table"/>; a command the table does not allow throws
/// the error the caller gets.
/// </summary>
public sealed class PaymentLifecycle(TimeSpan recoveryInterval)
{
    /// <summary>Who the hub's own steps are recorded as.</summary>
    public const string Hub = "hub";

    public PaymentDecision Decide(string paymentId, PaymentRecord record, PaymentCommand command, DateTimeOffset now)
    {
        var plan = new Plan(paymentId, record, now);
        switch (command)
        {
            case PaymentCommand.Shown shown:
                Show(plan, shown.Devices);
                break;
            case PaymentCommand.Approve approve:
                Approve(plan, record, approve, paymentId);
                break;
            case PaymentCommand.Decline decline when record.State != PaymentState.Declined:
                plan.Move(PaymentState.Declined, decline.Device, decline.By is { } guardian ? $"{decline.Reason} (guardian {guardian.Name})" : decline.Reason);
                plan.Actor = decline.Device;
                break;
            case PaymentCommand.Cancel cancel when record.State != PaymentState.Cancelled:
                plan.Move(PaymentState.Cancelled, cancel.Device, $"cancelled on {cancel.Device}");
                break;
            case PaymentCommand.CheckDeadline:
                ExpireIfDue(plan, record, now);
                break;
            case PaymentCommand.Charged charged:
                plan.MoveFrom(PaymentState.Charging, PaymentState.Completed, Hub, $"charged, ledger entry {charged.Sequence}");
                break;
            case PaymentCommand.ChargeRefused refused:
                plan.MoveFrom(PaymentState.Charging, PaymentState.Failed, Hub, $"ledger refused the charge: {refused.Reason}");
                break;
            case PaymentCommand.ChargeUncertain when record.State == PaymentState.Charging:
                plan.Effects.Add(new PaymentEffect.RetryCharge(TimeSpan.FromSeconds(1)));
                break;
            case PaymentCommand.Refund refund:
                Refund(plan, record, refund, paymentId, now);
                break;
            case PaymentCommand.RefundBooked booked:
                EndRefund(plan, record, booked.Key, refund => refund with { Sequence = booked.Sequence });
                break;
            case PaymentCommand.RefundRefused refused:
                EndRefund(plan, record, refused.Key, _ => null);
                break;
            case PaymentCommand.RefundUncertain when record.Refunds.Any(refund => !refund.Booked):
                plan.Effects.Add(new PaymentEffect.RetryRefunds(TimeSpan.FromSeconds(1)));
                break;
            case PaymentCommand.Resume:
                Resume(plan, record);
                break;
            case PaymentCommand.Recover:
                Recover(plan, record, now);
                break;
        }

        return plan.Decision(record.State);
    }

    /// <summary>
    /// The record of a new payment, accepted from <paramref name="input"/> at <paramref name="now"/>, offered to the
    /// candidates of the household's <paramref name="decision"/>, who asked and the rule that applied, and the key of the
    /// initiator that signed it.
    /// </summary>
    public static PaymentRecord Start(PaymentRequestInput input, RuleDecision decision, string initiatorName, DateTimeOffset now, TimeSpan expiry, string nonce, byte[]? initiatorKey = null) => new()
    {
        Input = input,
        InitiatorKey = initiatorKey,
        Candidates = [.. decision.Candidates],
        AskedBy = decision.AskedBy,
        Rule = decision.Rule,
        InitiatorName = initiatorName,
        CreatedAt = now,
        Deadline = now + expiry,
        Nonce = nonce,
        History = [new PaymentTransition(PaymentState.Created, PaymentState.Created, now, input.InitiatorDeviceId, "requested")],
    };

    /// <summary>
    /// The first offer of a new payment. With no device reached, a payer's request is forgotten (so the same order can
    /// be retried); a request for a guardian stays, and recovery offers it again until a guardian's device is back.
    /// </summary>
    public static PaymentEffect.OfferTo FirstOffer(PaymentRecord record) => new(record.Payers, ForgetIfOffline: record.Rule is not { NeedsGuardian: true });

    /// <summary>The charge the ledger books for a payment authorized on <paramref name="payer"/>, with the evidence that authorized it.</summary>
    public static ChargeRequest ChargeFor(string paymentId, PaymentRequestInput input, string payer, ProgramFunding? funding, ChargeEvidence? evidence) => new(
        paymentId,
        funding?.Account ?? LedgerAccounts.PayerAccount(payer),
        LedgerAccounts.MerchantAccount(input.Info.Merchant),
        input.Info.Amount,
        input.Info.Currency,
        funding?.Floor,
        evidence);

    /// <summary>The charge of a payment whose approval is recorded: what the recovery and a retry ask again, the same each time.</summary>
    public static ChargeRequest ChargeFor(string paymentId, PaymentRecord record) =>
        ChargeFor(paymentId, record.Input!, record.Payer!, record.Funding, record.Evidence);

    /// <summary>The ledger movement of a refund: from the merchant back to the payer that paid, under its own reference, with the initiator's signed refund.</summary>
    public static ChargeRequest RefundFor(string paymentId, PaymentRecord record, PaymentRefund refund) => new(
        LedgerAccounts.RefundReference(paymentId, refund.Key),
        LedgerAccounts.MerchantAccount(record.Input!.Info.Merchant),
        record.PayerAccount!,
        refund.Amount,
        record.Input.Info.Currency,
        Evidence: refund.Evidence);

    private static void Refund(Plan plan, PaymentRecord record, PaymentCommand.Refund refund, string paymentId, DateTimeOffset now)
    {
        if (!record.Exists || !record.State.IsRefundable())
        {
            throw new NotRefundableException(paymentId, record.State);
        }

        var info = record.Input!.Info;
        if (record.Refunds.FirstOrDefault(known => known.Key == refund.Key) is { } known)
        {
            // The same key again is the same refund; with another amount it is a mistake worth saying.
            if (known.Requested != refund.Amount)
            {
                throw new ConflictException($"refund key '{refund.Key}' of payment '{paymentId}' asked for {Asked(known.Requested, info)}, not {Asked(refund.Amount, info)}");
            }

            if (!known.Booked)
            {
                plan.Effects.Add(new PaymentEffect.BookRefund(known.Key, RefundFor(paymentId, record, known)));
            }

            return;
        }

        var given = record.Refunds.Sum(earlier => earlier.Amount);
        var left = info.Amount - given;
        var amount = refund.Amount ?? left;
        if (amount > left || amount <= 0)
        {
            throw new OverRefundException(
                $"a refund of {Asked(refund.Amount, info)} is more than the {left} {info.Currency} left of payment '{paymentId}' (charged {info.Amount}, refunded {given})");
        }

        var added = new PaymentRefund(refund.Key, amount, refund.Amount, now, Evidence: refund.Signed is { } signed ? ChargeEvidence.Of(signed) : null);
        plan.Refunds = [.. record.Refunds, added];
        plan.Effects.Add(new PaymentEffect.KeepRecovering());
        plan.Effects.Add(new PaymentEffect.BookRefund(added.Key, RefundFor(paymentId, record, added)));
    }

    private static string Asked(decimal? amount, PaymentInfo info) => amount is { } value ? $"{value} {info.Currency}" : "all that is left";

    /// <summary>A refund's booking ended: <paramref name="outcome"/> gives the refund as it stays, or null to drop it.</summary>
    private static void EndRefund(Plan plan, PaymentRecord record, string key, Func<PaymentRefund, PaymentRefund?> outcome)
    {
        var index = record.Refunds.FindIndex(refund => refund.Key == key && !refund.Booked);
        if (index < 0)
        {
            return;
        }

        var refunds = record.Refunds.ToList();
        if (outcome(refunds[index]) is { } kept)
        {
            refunds[index] = kept;
            if (kept.Booked)
            {
                plan.Effects.Add(new PaymentEffect.NoteRefundOn(record.Payer!));
            }
        }
        else
        {
            refunds.RemoveAt(index);
        }

        plan.Refunds = refunds;
        if (refunds.All(refund => refund.Booked))
        {
            plan.Effects.Add(new PaymentEffect.EndRecovery());
        }
    }

    private static void Show(Plan plan, IReadOnlyList<string> devices)
    {
        var device = devices[0];
        var shown = devices.Count == 1 ? "sheet shown on payer device" : $"sheet shown on {devices.Count} payer devices: {string.Join(", ", devices)}";
        switch (plan.State)
        {
            case PaymentState.Created:
                // The offer returns once the sheet shows it: both steps are recorded, and saved, together.
                plan.Move(PaymentState.Offered, device, devices.Count == 1 ? "sheet pushed to payer device" : $"sheet pushed to {devices.Count} payer devices");
                plan.Move(PaymentState.Displayed, device, shown);
                plan.Effects.Add(new PaymentEffect.ArmDeadline(plan.Record.Deadline));
                break;
            case PaymentState.Offered:
                // Only a record saved by an earlier version stops at Offered: now both steps are saved together.
                plan.Move(PaymentState.Displayed, device, shown);
                break;
        }
    }

    private static void Approve(Plan plan, PaymentRecord record, PaymentCommand.Approve approve, string paymentId)
    {
        if (record.Payer is { } paidOn)
        {
            // Another device (or this one, again) approved first: exactly one approval pays.
            throw new AlreadyPaidException(paymentId, paidOn);
        }

        if (record.State.IsTerminal())
        {
            throw PaymentNotCompletedException.For(record.ToSnapshot(paymentId));
        }

        var method = approve.Method == AuthMethod.Pin ? "PIN" : "biometric";
        if (approve.Guardian is { } guardian)
        {
            plan.Move(PaymentState.Authorized, approve.Device, $"approved by guardian {guardian.Name}, verified by {method}");
            plan.Approval = new GuardianApproval(guardian, approve.Device, approve.Method, approve.Funding?.ProgramId, plan.Now, approve.Signature ?? []);
        }
        else
        {
            plan.Move(PaymentState.Authorized, approve.Device, $"verified by {method} on payer device");
        }

        plan.Move(PaymentState.Charging, Hub, approve.Funding is { } funding ? $"charge of program {funding.ProgramId} sent to ledger" : "charge sent to ledger");
        plan.Funding = approve.Funding;
        plan.Evidence = approve.Evidence;
        plan.Effects.Add(new PaymentEffect.Charge(ChargeFor(paymentId, record.Input!, approve.Device, approve.Funding, approve.Evidence)));
    }

    private static void ExpireIfDue(Plan plan, PaymentRecord record, DateTimeOffset now)
    {
        if (record.Exists && plan.State.AwaitsVerification() && now >= record.Deadline)
        {
            plan.Move(PaymentState.Expired, Hub, "not verified before the deadline");
        }
    }

    private void Resume(Plan plan, PaymentRecord record)
    {
        if (record.Refunds.Any(refund => !refund.Booked))
        {
            // A refund was being booked when the last activation ended: the ledger books a reference once, so finish it.
            plan.Effects.Add(new PaymentEffect.ArmRecovery(recoveryInterval));
            plan.Effects.Add(new PaymentEffect.RetryRefunds(TimeSpan.Zero));
            return;
        }

        if (!record.Exists || record.State.IsTerminal())
        {
            return;
        }

        plan.Effects.Add(new PaymentEffect.ArmRecovery(recoveryInterval));
        if (record.State.AwaitsVerification())
        {
            plan.Effects.Add(new PaymentEffect.ArmDeadline(record.Deadline));
        }
        else if (record.State == PaymentState.Charging)
        {
            // A charge was in flight when the last activation ended: the ledger is idempotent, so finish it.
            plan.Effects.Add(new PaymentEffect.RetryCharge(TimeSpan.Zero));
        }
    }

    private static void Recover(Plan plan, PaymentRecord record, DateTimeOffset now)
    {
        if (record.Refunds.Where(refund => !refund.Booked).ToList() is { Count: > 0 } unbooked)
        {
            foreach (var refund in unbooked)
            {
                plan.Effects.Add(new PaymentEffect.BookRefund(refund.Key, RefundFor(plan.PaymentId, record, refund)));
            }

            return;
        }

        if (!record.Exists || record.State.IsTerminal())
        {
            plan.Effects.Add(new PaymentEffect.EndRecovery());
            return;
        }

        ExpireIfDue(plan, record, now);
        switch (plan.State)
        {
            case PaymentState.Created or PaymentState.Offered or PaymentState.Displayed:
                // The payer agent may have restarted and lost its sheet; offering again is idempotent.
                plan.Effects.Add(new PaymentEffect.OfferTo(record.Payers, ForgetIfOffline: false));
                break;
            case PaymentState.Authorized:
                // Only a record saved by an earlier version stops at Authorized: now it is saved with Charging.
                plan.Move(PaymentState.Charging, Hub, "charge sent to ledger");
                plan.Effects.Add(new PaymentEffect.Charge(ChargeFor(plan.PaymentId, record)));
                break;
            case PaymentState.Charging:
                plan.Effects.Add(new PaymentEffect.Charge(ChargeFor(plan.PaymentId, record)));
                break;
        }
    }

    /// <summary>A decision being made: the state it has reached so far, its transitions and effects.</summary>
    private sealed class Plan(string paymentId, PaymentRecord record, DateTimeOffset now)
    {
        private readonly List<PaymentTransition> _transitions = [];

        public string PaymentId => paymentId;

        public PaymentRecord Record => record;

        public DateTimeOffset Now => now;

        public PaymentState State { get; private set; } = record.State;

        public List<PaymentEffect> Effects { get; } = [];

        /// <summary>The refunds as they are after this decision, when it changes them.</summary>
        public IReadOnlyList<PaymentRefund>? Refunds { get; set; }

        /// <summary>The program an approval chose, recorded with it.</summary>
        public ProgramFunding? Funding { get; set; }

        /// <summary>A guardian's approval, recorded with it.</summary>
        public GuardianApproval? Approval { get; set; }

        /// <summary>The signed statements that authorize the charge, recorded with the approval.</summary>
        public ChargeEvidence? Evidence { get; set; }

        /// <summary>The payer device that ended the payment itself (a decline): its own sheet needs no closing.</summary>
        public string? Actor { get; set; }

        public void Move(PaymentState to, string device, string cause)
        {
            if (!record.Exists || !PaymentStates.CanMove(State, to))
            {
                throw new IllegalTransitionException(paymentId, State, to);
            }

            _transitions.Add(new PaymentTransition(State, to, now, device, cause));
            State = to;
        }

        /// <summary>A move that only <paramref name="from"/> may make (a charge's outcome ends only a charge).</summary>
        public void MoveFrom(PaymentState from, PaymentState to, string device, string cause)
        {
            if (State != from)
            {
                throw new IllegalTransitionException(paymentId, State, to);
            }

            Move(to, device, cause);
        }

        public PaymentDecision Decision(PaymentState before)
        {
            if (!before.IsTerminal() && State.IsTerminal())
            {
                // Every other sheet closes at once, and says how the payment ended (and where it was paid).
                var actor = Actor ?? record.Payer;
                foreach (var device in record.Payers.Where(device => device != actor))
                {
                    Effects.Add(new PaymentEffect.CloseOn(device));
                }

                Effects.Add(new PaymentEffect.EndRecovery());
            }

            return _transitions.Count == 0 && Effects.Count == 0 && Refunds is null && Funding is null && Approval is null && Evidence is null
                ? PaymentDecision.None
                : new PaymentDecision(_transitions, Effects, Refunds, Funding, Approval, Evidence);
        }
    }
}
