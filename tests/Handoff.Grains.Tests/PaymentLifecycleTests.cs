using Handoff.Contracts;
using Handoff.Grains;
using Handoff.Grains.Payments;

namespace Handoff.Grains.Tests;

/// <summary>
/// The payment lifecycle with no cluster: every state against every command, each pair's transitions and effects
/// (or its error) written out below. A new state or command fails <see cref="Every_pair_has_an_expectation"/> until
/// its row is written.
/// </summary>
public sealed class PaymentLifecycleTests
{
    private const string Id = "pay-1";
    private static readonly DateTimeOffset Created = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Deadline = Created.AddMinutes(2);
    private static readonly DateTimeOffset BeforeDeadline = Deadline.AddSeconds(-1);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private static readonly PaymentLifecycle Lifecycle = new(Interval);
    private static readonly PaymentRequestInput Input = new("home", "tv-1", "phone-1", "order-1", new PaymentInfo(12.50m, "CNY", "Tea House"));
    private static readonly PersonRef Alice = new("alice", "Alice");
    private static readonly PersonRef Bob = new("bob", "Bob");

    /// <summary>The commands, each at the time it is decided.</summary>
    private static readonly Dictionary<string, (PaymentCommand Command, DateTimeOffset At)> Commands = new()
    {
        ["shown"] = (new PaymentCommand.Shown(["phone-1"]), BeforeDeadline),
        ["approve"] = (new PaymentCommand.Approve("phone-1", AuthMethod.Pin), BeforeDeadline),
        ["approve-guardian"] = (new PaymentCommand.Approve("phone-1", AuthMethod.Pin, null, Alice, [1, 2, 3]), BeforeDeadline),
        ["decline"] = (new PaymentCommand.Decline("phone-1", "declined on payer device"), BeforeDeadline),
        ["decline-guardian"] = (new PaymentCommand.Decline("phone-1", "declined on payer device", Alice), BeforeDeadline),
        ["cancel"] = (new PaymentCommand.Cancel("tv-1"), BeforeDeadline),
        ["deadline-not-due"] = (new PaymentCommand.CheckDeadline(), BeforeDeadline),
        ["deadline-due"] = (new PaymentCommand.CheckDeadline(), Deadline),
        ["charged"] = (new PaymentCommand.Charged(7), BeforeDeadline),
        ["charge-refused"] = (new PaymentCommand.ChargeRefused("no such account"), BeforeDeadline),
        ["charge-uncertain"] = (new PaymentCommand.ChargeUncertain(), BeforeDeadline),
        ["refund"] = (new PaymentCommand.Refund("r-1", 5m), BeforeDeadline),
        ["refund-booked"] = (new PaymentCommand.RefundBooked("r-1", 9), BeforeDeadline),
        ["refund-refused"] = (new PaymentCommand.RefundRefused("r-1", "no"), BeforeDeadline),
        ["refund-uncertain"] = (new PaymentCommand.RefundUncertain("r-1"), BeforeDeadline),
        ["resume"] = (new PaymentCommand.Resume(), BeforeDeadline),
        ["recover"] = (new PaymentCommand.Recover(), BeforeDeadline),
        ["recover-after-deadline"] = (new PaymentCommand.Recover(), Deadline.AddSeconds(5)),
    };

    // Outcome notation: "To,To | Effect,Effect" (either side may be empty), "-" for nothing, "!Error" for a refusal.
    private const string Illegal = "!IllegalTransitionException";
    private const string AlreadyPaid = "!AlreadyPaidException";
    private const string NotRefundable = "!NotRefundableException";

    private static readonly Dictionary<PaymentState, Dictionary<string, string>> Expected = new()
    {
        [PaymentState.Created] = Awaiting(shown: "Offered,Displayed | ArmDeadline", approve: Illegal, resume: "| ArmRecovery,ArmDeadline"),
        [PaymentState.Offered] = Awaiting(shown: "Displayed |", approve: "Authorized,Charging | Charge", resume: "| ArmRecovery,ArmDeadline"),
        [PaymentState.Displayed] = Awaiting(shown: "-", approve: "Authorized,Charging | Charge", resume: "| ArmRecovery,ArmDeadline"),
        [PaymentState.Authorized] = Moving(recover: "Charging | Charge", charged: Illegal, refused: Illegal, uncertain: "-", resume: "| ArmRecovery"),
        [PaymentState.Charging] = Moving(recover: "| Charge", charged: "Completed | EndRecovery", refused: "Failed | EndRecovery", uncertain: "| RetryCharge", resume: "| ArmRecovery,RetryCharge"),
        [PaymentState.Completed] = Ended(approve: AlreadyPaid, decline: Illegal, cancel: Illegal, refund: "| KeepRecovering,BookRefund +refunds"),
        [PaymentState.Declined] = Ended(approve: "!PaymentDeclinedException", decline: "-", cancel: Illegal, refund: NotRefundable),
        [PaymentState.Cancelled] = Ended(approve: "!PaymentCancelledException", decline: Illegal, cancel: "-", refund: NotRefundable),
        [PaymentState.Expired] = Ended(approve: "!PaymentExpiredException", decline: Illegal, cancel: Illegal, refund: NotRefundable),
        [PaymentState.Failed] = Ended(approve: "!PaymentNotCompletedException", decline: Illegal, cancel: Illegal, refund: NotRefundable),
    };

    public static TheoryData<PaymentState, string> Pairs()
    {
        var pairs = new TheoryData<PaymentState, string>();
        foreach (var state in Enum.GetValues<PaymentState>())
        {
            foreach (var command in Commands.Keys)
            {
                pairs.Add(state, command);
            }
        }

        return pairs;
    }

    [Fact]
    public void Every_pair_has_an_expectation()
    {
        foreach (var state in Enum.GetValues<PaymentState>())
        {
            Assert.True(Expected.TryGetValue(state, out var row), $"no expectations for state {state}");
            Assert.Equal(Commands.Keys.Order(), row.Keys.Order());
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Each_state_and_command_gives_its_transitions_and_effects(PaymentState state, string command)
    {
        var record = RecordIn(state);
        var (decided, at) = Commands[command];
        var expected = Expected[state][command];

        string actual;
        try
        {
            actual = Describe(Lifecycle.Decide(Id, record, decided, at));
        }
        catch (HandoffException refused)
        {
            actual = "!" + refused.GetType().Name;
        }

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void A_decision_only_makes_moves_the_table_allows_and_changes_nothing_itself(PaymentState state, string command)
    {
        var record = RecordIn(state);
        var (decided, at) = Commands[command];
        PaymentDecision decision;
        try
        {
            decision = Lifecycle.Decide(Id, record, decided, at);
        }
        catch (HandoffException)
        {
            Assert.Equal(state, record.State);
            return;
        }

        Assert.Equal(state, record.State);
        var from = state;
        foreach (var step in decision.Transitions)
        {
            Assert.Equal(from, step.From);
            Assert.True(PaymentStates.CanMove(step.From, step.To), $"{step.From} -> {step.To} is not in the table");
            Assert.Equal(at, step.At);
            from = step.To;
        }

        record.Apply(decision.Transitions);
        Assert.Equal(from, record.State);
        Assert.Equal(from.IsTerminal() && !state.IsTerminal(), decision.Effects.OfType<PaymentEffect.EndRecovery>().Any() && decision.Transitions.Count > 0);
    }

    [Fact]
    public void An_approval_with_a_program_records_it_and_charges_its_account_down_to_its_floor_refunds_included()
    {
        var funding = new ProgramFunding("card", LedgerAccounts.ProgramAccount("card"), -200m);
        var record = RecordIn(PaymentState.Displayed);
        var decision = Lifecycle.Decide(Id, record, new PaymentCommand.Approve("phone-1", AuthMethod.Pin, funding), BeforeDeadline);

        var charge = Assert.IsType<PaymentEffect.Charge>(Assert.Single(decision.Effects));
        Assert.Equal(new ChargeRequest(Id, "program:card", LedgerAccounts.MerchantAccount("Tea House"), 12.50m, "CNY", -200m), charge.Request);
        Assert.Equal(funding, decision.Funding);
        Assert.True(decision.ChangesRecord);
        record.Apply(decision);
        Assert.Equal(funding, record.Funding);
        Assert.Equal("program:card", record.PayerAccount);
        Assert.Equal("card", record.ToSnapshot(Id).Program);

        // Recovery charges the same account with the same floor; a refund goes back to it, with no floor.
        var recovered = Lifecycle.Decide(Id, record, new PaymentCommand.Recover(), BeforeDeadline);
        Assert.Equal(charge.Request, Assert.Single(recovered.Effects.OfType<PaymentEffect.Charge>()).Request);
        var refund = PaymentLifecycle.RefundFor(Id, record, new PaymentRefund("r-1", 2m, 2m, BeforeDeadline));
        Assert.Equal(("merchant:Tea House", "program:card", (decimal?)null), (refund.PayerAccount, refund.MerchantAccount, refund.Floor));
    }

    [Fact]
    public void Approval_charges_the_payer_for_the_exact_terms()
    {
        var decision = Lifecycle.Decide(Id, RecordIn(PaymentState.Displayed), new PaymentCommand.Approve("phone-1", AuthMethod.Biometric), BeforeDeadline);

        var charge = Assert.IsType<PaymentEffect.Charge>(Assert.Single(decision.Effects));
        Assert.Equal(new ChargeRequest(Id, LedgerAccounts.PayerAccount("phone-1"), LedgerAccounts.MerchantAccount("Tea House"), 12.50m, "CNY"), charge.Request);
        Assert.Equal("verified by biometric on payer device", decision.Transitions[0].Cause);
        Assert.Equal("phone-1", decision.Transitions[0].Device);
        Assert.Equal(PaymentLifecycle.Hub, decision.Transitions[1].Device);
    }

    [Fact]
    public void Cancel_and_expiry_close_the_sheet_on_the_payer_and_keep_the_reason()
    {
        var cancelled = RecordIn(PaymentState.Displayed);
        var cancel = Lifecycle.Decide(Id, cancelled, new PaymentCommand.Cancel("tv-1"), BeforeDeadline);
        Assert.Equal("phone-1", Assert.IsType<PaymentEffect.CloseOn>(cancel.Effects[0]).Device);
        cancelled.Apply(cancel.Transitions);
        Assert.Equal("cancelled on tv-1", cancelled.FailureReason);

        var expired = RecordIn(PaymentState.Displayed);
        expired.Apply(Lifecycle.Decide(Id, expired, new PaymentCommand.CheckDeadline(), Deadline).Transitions);
        Assert.Equal("not verified before the deadline", expired.FailureReason);
    }

    [Fact]
    public void Offered_to_several_the_first_approval_pays_and_every_other_sheet_closes()
    {
        var record = RecordIn(PaymentState.Created, "phone-1", "watch-1");
        var shown = Lifecycle.Decide(Id, record, new PaymentCommand.Shown(["phone-1", "watch-1"]), BeforeDeadline);
        Assert.Equal("sheet shown on 2 payer devices: phone-1, watch-1", shown.Transitions[^1].Cause);
        record.Apply(shown.Transitions);

        var approve = Lifecycle.Decide(Id, record, new PaymentCommand.Approve("watch-1", AuthMethod.Pin), BeforeDeadline);
        var charge = Assert.IsType<PaymentEffect.Charge>(Assert.Single(approve.Effects));
        Assert.Equal(LedgerAccounts.PayerAccount("watch-1"), charge.Request.PayerAccount);
        record.Apply(approve.Transitions);
        Assert.Equal("watch-1", record.Payer);

        // The loser of the race is told where it was paid; nothing moves.
        var late = Assert.Throws<AlreadyPaidException>(() => Lifecycle.Decide(Id, record, new PaymentCommand.Approve("phone-1", AuthMethod.Pin), BeforeDeadline));
        Assert.Equal(("watch-1", ErrorCodes.AlreadyPaid), (late.PaidOn, late.Code));

        var charged = Lifecycle.Decide(Id, record, new PaymentCommand.Charged(1), BeforeDeadline);
        Assert.Equal("CloseOn:phone-1,EndRecovery", string.Join(",", charged.Effects.Select(Name)));
    }

    [Fact]
    public void Offered_to_several_an_expiry_closes_every_sheet_and_a_decline_every_other()
    {
        var expired = Lifecycle.Decide(Id, RecordIn(PaymentState.Displayed, "phone-1", "watch-1"), new PaymentCommand.CheckDeadline(), Deadline);
        Assert.Equal("CloseOn:phone-1,CloseOn:watch-1,EndRecovery", string.Join(",", expired.Effects.Select(Name)));

        var declined = Lifecycle.Decide(Id, RecordIn(PaymentState.Displayed, "phone-1", "watch-1"), new PaymentCommand.Decline("phone-1", "declined"), BeforeDeadline);
        Assert.Equal("CloseOn:watch-1,EndRecovery", string.Join(",", declined.Effects.Select(Name)));

        var recover = Lifecycle.Decide(Id, RecordIn(PaymentState.Displayed, "phone-1", "watch-1"), new PaymentCommand.Recover(), BeforeDeadline);
        Assert.Equal(["phone-1", "watch-1"], Assert.IsType<PaymentEffect.OfferTo>(Assert.Single(recover.Effects)).Devices);
    }

    [Fact]
    public void Refunds_give_back_in_parts_never_beyond_the_charge_and_the_same_key_is_the_same_refund()
    {
        var record = RecordIn(PaymentState.Completed);

        var first = Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-1", 5m), BeforeDeadline);
        var book = Assert.IsType<PaymentEffect.BookRefund>(first.Effects[1]);
        Assert.Equal(
            new ChargeRequest(LedgerAccounts.RefundReference(Id, "r-1"), LedgerAccounts.MerchantAccount("Tea House"), LedgerAccounts.PayerAccount("phone-1"), 5m, "CNY"),
            book.Request);
        record.Apply(first);
        Assert.Equal("| NoteRefundOn,EndRecovery +refunds", Describe(Decide(record, new PaymentCommand.RefundBooked("r-1", 3))));
        Assert.Equal(3, record.Refunds[0].Sequence);

        // The same key and amount again: the same refund, nothing to do. Another amount: a conflict.
        Assert.Same(PaymentDecision.None, Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-1", 5m), BeforeDeadline));
        Assert.Throws<ConflictException>(() => Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-1", 6m), BeforeDeadline));

        // 12.50 charged, 5 given back: 7.51 is too much, the rest (7.50) is not.
        var over = Assert.Throws<OverRefundException>(() => Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-2", 7.51m), BeforeDeadline));
        Assert.Contains("7.50 CNY left", over.Message, StringComparison.Ordinal);
        var rest = Decide(record, new PaymentCommand.Refund("r-2", null));
        Assert.Equal(7.50m, record.Refunds[1].Amount);
        Assert.Null(record.Refunds[1].Requested);
        Assert.Contains(rest.Effects, effect => effect is PaymentEffect.BookRefund);
        Assert.Throws<OverRefundException>(() => Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-3", 0.01m), BeforeDeadline));
        Assert.Throws<OverRefundException>(() => Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-3", null), BeforeDeadline));
    }

    [Fact]
    public void A_refund_being_booked_is_finished_after_a_restart_and_a_refused_one_is_dropped()
    {
        var record = RecordIn(PaymentState.Completed);
        Decide(record, new PaymentCommand.Refund("r-1", 2m));

        Assert.Equal("| ArmRecovery,RetryRefunds", Describe(Lifecycle.Decide(Id, record, new PaymentCommand.Resume(), BeforeDeadline)));
        Assert.Equal("| BookRefund", Describe(Lifecycle.Decide(Id, record, new PaymentCommand.Recover(), BeforeDeadline)));
        Assert.Equal("| RetryRefunds", Describe(Lifecycle.Decide(Id, record, new PaymentCommand.RefundUncertain("r-1"), BeforeDeadline)));

        // Asked again by key while being booked: book it (the ledger books a reference once).
        Assert.Equal("| BookRefund", Describe(Lifecycle.Decide(Id, record, new PaymentCommand.Refund("r-1", 2m), BeforeDeadline)));

        Assert.Equal("| EndRecovery +refunds", Describe(Decide(record, new PaymentCommand.RefundRefused("r-1", "refused"))));
        Assert.Empty(record.Refunds);
        Assert.Equal("| EndRecovery", Describe(Lifecycle.Decide(Id, record, new PaymentCommand.Recover(), BeforeDeadline)));
    }

    [Fact]
    public void A_guardians_approval_is_kept_with_the_guardian_and_the_signature_and_a_decline_names_the_guardian()
    {
        var wallet = new ProgramFunding("wallet", LedgerAccounts.ProgramAccount("wallet"), 0m);
        var record = GuardianRequest(PaymentState.Displayed, "phone-1", "phone-2");
        var approve = Decide(record, new PaymentCommand.Approve("phone-2", AuthMethod.Pin, wallet, Alice, [7, 7]));

        Assert.Equal("approved by guardian Alice, verified by PIN", approve.Transitions[0].Cause);
        Assert.Equal(new ChargeRequest(Id, "program:wallet", LedgerAccounts.MerchantAccount("Tea House"), 12.50m, "CNY", 0m), Assert.IsType<PaymentEffect.Charge>(Assert.Single(approve.Effects)).Request);
        Assert.Equal((Alice, "phone-2", "wallet", BeforeDeadline), (record.Approval!.Guardian, record.Approval.DeviceId, record.Approval.ProgramId, record.Approval.At));
        Assert.Equal(new byte[] { 7, 7 }, record.Approval.Signature);
        var snapshot = record.ToSnapshot(Id);
        Assert.Equal((Bob, Alice), (snapshot.AskedBy, snapshot.Approval!.Guardian));
        Assert.False(snapshot.AwaitsGuardian);
        Assert.Null(snapshot.AsOf(1).Approval);

        var declined = GuardianRequest(PaymentState.Displayed, "phone-1", "phone-2");
        Assert.True(declined.ToSnapshot(Id).AwaitsGuardian);
        var decline = Decide(declined, new PaymentCommand.Decline("phone-1", "declined on payer device", Alice));
        Assert.Equal("declined on payer device (guardian Alice)", declined.FailureReason);
        Assert.Equal("CloseOn:phone-2,EndRecovery", string.Join(",", decline.Effects.Select(Name)));
        Assert.Null(declined.Approval);
    }

    [Fact]
    public void A_request_for_a_guardian_is_kept_when_no_guardian_device_is_online_and_a_payers_is_forgotten()
    {
        var guardians = PaymentLifecycle.FirstOffer(GuardianRequest(PaymentState.Created, "phone-1", "phone-2"));
        Assert.Equal(["phone-1", "phone-2"], guardians.Devices);
        Assert.False(guardians.ForgetIfOffline);
        var first = PaymentLifecycle.FirstOffer(RecordIn(PaymentState.Created));
        Assert.Equal(["phone-1"], first.Devices);
        Assert.True(first.ForgetIfOffline);

        // The guardian's sheet names the member's request; a payer's offer names nothing of the kind.
        var offer = GuardianRequest(PaymentState.Displayed, "phone-1").ToOffer(Id, "phone-1");
        Assert.Equal((Bob, Handoff.Contracts.Security.Signing.RequestDigest(Input)), (offer.AskedBy, offer.RequestDigest));
        Assert.Null(RecordIn(PaymentState.Displayed).ToOffer(Id, "phone-1").RequestDigest);
    }

    [Fact]
    public void A_new_payment_starts_created_with_its_deadline_and_nonce()
    {
        var record = PaymentLifecycle.Start(Input, new RuleDecision(null, null, ["phone-1"]), "Living-room TV", Created, TimeSpan.FromMinutes(2), "n0nce");

        Assert.Equal(PaymentState.Created, record.State);
        Assert.Equal(Deadline, record.Deadline);
        Assert.Equal("n0nce", record.Nonce);
        var step = Assert.Single(record.History);
        Assert.Equal(("tv-1", "requested"), (step.Device, step.Cause));
    }

    [Fact]
    public void Applying_a_step_that_does_not_follow_the_record_is_refused()
    {
        var record = RecordIn(PaymentState.Completed);

        Assert.Throws<InvalidOperationException>(() => record.Apply([new PaymentTransition(PaymentState.Displayed, PaymentState.Authorized, Created, "phone-1", "forged")]));
        Assert.Equal(PaymentState.Completed, record.State);
    }

    private static Dictionary<string, string> Awaiting(string shown, string approve, string resume) => new()
    {
        ["shown"] = shown,
        ["approve"] = approve,
        ["approve-guardian"] = approve == Illegal ? Illegal : approve + " +approval",
        ["decline"] = "Declined | EndRecovery",
        ["decline-guardian"] = "Declined | EndRecovery",
        ["cancel"] = "Cancelled | CloseOn,EndRecovery",
        ["deadline-not-due"] = "-",
        ["deadline-due"] = "Expired | CloseOn,EndRecovery",
        ["charged"] = Illegal,
        ["charge-refused"] = Illegal,
        ["charge-uncertain"] = "-",
        ["refund"] = NotRefundable,
        ["refund-booked"] = "-",
        ["refund-refused"] = "-",
        ["refund-uncertain"] = "-",
        ["resume"] = resume,
        ["recover"] = "| OfferTo",
        ["recover-after-deadline"] = "Expired | CloseOn,EndRecovery",
    };

    private static Dictionary<string, string> Moving(string recover, string charged, string refused, string uncertain, string resume) => new()
    {
        ["shown"] = "-",
        ["approve"] = AlreadyPaid,
        ["approve-guardian"] = AlreadyPaid,
        ["decline"] = Illegal,
        ["decline-guardian"] = Illegal,
        ["cancel"] = Illegal,
        ["deadline-not-due"] = "-",
        ["deadline-due"] = "-",
        ["charged"] = charged,
        ["charge-refused"] = refused,
        ["charge-uncertain"] = uncertain,
        ["refund"] = NotRefundable,
        ["refund-booked"] = "-",
        ["refund-refused"] = "-",
        ["refund-uncertain"] = "-",
        ["resume"] = resume,
        ["recover"] = recover,
        ["recover-after-deadline"] = recover,
    };

    private static Dictionary<string, string> Ended(string approve, string decline, string cancel, string refund) => new()
    {
        ["shown"] = "-",
        ["approve"] = approve,
        ["approve-guardian"] = approve,
        ["decline"] = decline,
        ["decline-guardian"] = decline,
        ["cancel"] = cancel,
        ["deadline-not-due"] = "-",
        ["deadline-due"] = "-",
        ["charged"] = Illegal,
        ["charge-refused"] = Illegal,
        ["charge-uncertain"] = "-",
        ["refund"] = refund,
        ["refund-booked"] = "-",
        ["refund-refused"] = "-",
        ["refund-uncertain"] = "-",
        ["resume"] = "-",
        ["recover"] = "| EndRecovery",
        ["recover-after-deadline"] = "| EndRecovery",
    };

    /// <summary>A record in <paramref name="state"/>; one that got as far as authorization was approved on phone-1.</summary>
    private static PaymentRecord RecordIn(PaymentState state, params string[] payers)
    {
        var record = PaymentLifecycle.Start(Input, new RuleDecision(null, null, payers.Length > 0 ? payers : ["phone-1"]), "Living-room TV", Created, Deadline - Created, "n0nce");
        if (state is PaymentState.Authorized or PaymentState.Charging or PaymentState.Completed)
        {
            record.History.Add(new PaymentTransition(PaymentState.Displayed, PaymentState.Authorized, Created, "phone-1", "verified"));
        }

        record.State = state;
        return record;
    }

    /// <summary>Bob's request, over his budget, offered to guardian devices <paramref name="payers"/>.</summary>
    private static PaymentRecord GuardianRequest(PaymentState state, params string[] payers)
    {
        var rule = new PaymentRule(RuleCode.OverBudget, "over Bob's budget", null, [Alice]);
        var record = PaymentLifecycle.Start(Input, new RuleDecision(Bob, rule, payers), "Bob's TV", Created, Deadline - Created, "n0nce");
        record.State = state;
        return record;
    }

    /// <summary>Decides and applies, as the grain does.</summary>
    private static PaymentDecision Decide(PaymentRecord record, PaymentCommand command)
    {
        var decision = Lifecycle.Decide(Id, record, command, BeforeDeadline);
        record.Apply(decision);
        return decision;
    }

    private static string Name(PaymentEffect effect) => effect is PaymentEffect.CloseOn close ? $"CloseOn:{close.Device}" : effect.GetType().Name;

    private static string Describe(PaymentDecision decision)
    {
        if (decision.Transitions.Count == 0 && decision.Effects.Count == 0)
        {
            return "-";
        }

        var states = string.Join(",", decision.Transitions.Select(step => step.To));
        var effects = string.Join(",", decision.Effects.Select(effect => effect.GetType().Name));
        return $"{states} | {effects}{(decision.Refunds is null ? string.Empty : " +refunds")}{(decision.Approval is null ? string.Empty : " +approval")}".Trim();
    }
}
