using Handoff.Cli.Chaos;
using Handoff.Cli.Ledger;
using Handoff.Contracts;
using Handoff.Grains;

namespace Handoff.Cli.Tests.Chaos;

/// <summary>
/// The chaos verdict over a store and a journal written by hand: a clean run passes, and each way a household can break
/// its word (an answer the store does not hold, a watcher that skipped a state, an approval nobody gave, a lost refund,
/// a lost payment, a household that does not work once healed) is named.
/// </summary>
public sealed class ChaosVerdictTests
{
    private const string Id = "pay-chaos-1";
    private static readonly DateTimeOffset s_start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Programs = new Dictionary<string, IReadOnlyList<string>> { ["phone-1"] = ["wallet-1"] };
    private static readonly HandoffPlan Plan = new(
        0, HandoffKind.Decline, new PaymentInfo(12.50m, "CNY", "Tea House", "chaos 1/0"), "phone-1", ["phone-1"], null, null,
        TimeSpan.FromSeconds(15), TimeSpan.Zero, 0, []);

    [Fact]
    public void A_declined_payment_seen_in_order_passes()
    {
        var (journal, payment) = Journal();
        var stored = Declined();
        payment.Answered("decline on phone-1", stored.ToSnapshot(Id));
        Watched(payment, stored, 1, 2, 3);

        Assert.Empty(Judge(journal, stored));
    }

    [Fact]
    public void An_answer_the_store_does_not_hold_is_a_violation()
    {
        var (journal, payment) = Journal();
        var stored = Declined();
        Watched(payment, stored, 1, 2, 3);
        var told = Record([PaymentState.Offered, PaymentState.Displayed, PaymentState.Cancelled]);
        payment.Answered("cancel on tv-1", told.ToSnapshot(Id));

        var violation = Assert.Single(Judge(journal, stored));
        Assert.StartsWith($"payment {Id}: 'cancel on tv-1' answered Created -> Offered", violation, StringComparison.Ordinal);
        Assert.Contains("-> Cancelled", violation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_watcher_that_skips_a_state_or_misses_the_end_is_a_violation()
    {
        var (journal, payment) = Journal();
        var stored = Declined();
        Watched(payment, stored, 1, 3);
        Assert.Equal([$"payment {Id}: the SDK watcher went from Created -> Offered (tv-1 12:00:01.000) to Created -> Offered (tv-1 12:00:01.000) -> Displayed (phone-1 12:00:02.000) -> Declined (phone-1 12:00:03.000): not the next state"], Judge(journal, stored));

        (journal, payment) = Journal();
        Watched(payment, stored, 1, 2);
        Assert.Equal([$"payment {Id}: the SDK watcher's last state was Created -> Offered (tv-1 12:00:01.000) -> Displayed (phone-1 12:00:02.000), but the store has Created -> Offered (tv-1 12:00:01.000) -> Displayed (phone-1 12:00:02.000) -> Declined (phone-1 12:00:03.000)"], Judge(journal, stored));

        (journal, payment) = Journal();
        Watched(payment, stored, 2);
        Watched(payment, stored, 1, 2, 3);
        Assert.Contains(Judge(journal, stored), violation => violation.Contains("a new SDK watch began at Created -> Offered (tv-1 12:00:01.000)", StringComparison.Ordinal));
    }

    [Fact]
    public void An_authorization_without_the_payers_pin_or_with_another_program_is_a_violation()
    {
        var (journal, payment) = Journal();
        var stored = Record([PaymentState.Offered, PaymentState.Displayed, PaymentState.Authorized, PaymentState.Failed]);
        payment.Approvals.Enqueue(new ApprovalAsked("phone-1", null, RightPin: false));
        Watched(payment, stored, 1, 2, 3, 4);
        Assert.Equal([$"payment {Id} was authorized by phone-1, which was never given its PIN for it"], Judge(journal, stored));

        payment.Approvals.Enqueue(new ApprovalAsked("phone-1", "wallet-1", RightPin: true));
        Assert.Equal([$"payment {Id} was paid with phone-1's own account, which no approval on phone-1 chose (wallet-1)"], Judge(journal, stored));

        stored.Funding = new ProgramFunding("wallet-1", LedgerAccounts.ProgramAccount("wallet-1"), 0m);
        Assert.Empty(Judge(journal, stored));
    }

    [Fact]
    public void A_lost_payment_a_lost_refund_and_an_open_payment_are_violations()
    {
        var (journal, payment) = Journal();
        payment.Accepted = true;
        Assert.Equal([$"payment {Id} was accepted but is not in the store"], ChaosVerdict.Judge(Store(), LedgerAudit.Check(Store()), journal, Programs, Grace));

        var stored = Declined();
        Watched(payment, stored, 1, 2, 3);
        payment.RefundsConfirmed["r0"] = 2m;
        Assert.Equal([$"payment {Id}: refund 'r0' of 2 was confirmed, but the store has no such refund"], Judge(journal, stored));

        var open = Record([PaymentState.Offered, PaymentState.Displayed]);
        (journal, payment) = Journal();
        Watched(payment, open, 1, 2);
        Assert.Equal([$"payment {Id} is still Displayed, past its deadline 12:00:15.000 and the grace of 60 s"], Judge(journal, open));
        Assert.Equal(["payment pay-stranger is in the store, but the run never asked for it"], ChaosVerdict.Judge(Store(("pay-stranger", Declined())), LedgerAudit.Check(Store()), new ChaosJournal(), Programs, Grace));
    }

    [Fact]
    public void The_handoff_after_healing_must_complete()
    {
        var (_, payment) = Journal();
        Assert.Equal([$"after healing, a new handoff did not complete: payment {Id} is Declined"], ChaosVerdict.JudgeHealed(Store((Id, Declined())), payment));
        Assert.Equal([$"after healing, a new handoff did not complete: payment {Id} is not in the store"], ChaosVerdict.JudgeHealed(Store(), payment));
        var completed = Record([PaymentState.Offered, PaymentState.Displayed, PaymentState.Authorized, PaymentState.Charging, PaymentState.Completed]);
        Assert.Empty(ChaosVerdict.JudgeHealed(Store((Id, completed)), payment));
    }

    private static (ChaosJournal Journal, PaymentJournal Payment) Journal()
    {
        var journal = new ChaosJournal();
        var payment = journal.Add(Plan, Id);
        payment.Accepted = true;
        return (journal, payment);
    }

    /// <summary>One watch that saw the stored payment at each of <paramref name="versions"/> (1: Created → Offered, and so on).</summary>
    private static void Watched(PaymentJournal payment, PaymentRecord stored, params int[] versions) =>
        payment.Watches.Enqueue([.. versions.Select(version => ChaosStep.Of(stored.History.Take(version)))]);

    private static List<string> Judge(ChaosJournal journal, PaymentRecord stored)
    {
        var store = Store((Id, stored));
        return [.. ChaosVerdict.Judge(store, LedgerAudit.Check(store), journal, Programs, Grace)];
    }

    private static StoredState Store(params (string Id, PaymentRecord Record)[] payments) => new(
        payments.ToDictionary(payment => payment.Id, payment => payment.Record),
        new Dictionary<string, StoredLedger>(),
        [],
        new Dictionary<string, ProgramsRecord>(),
        new Dictionary<string, RulesRecord>(),
        new Dictionary<string, RegisteredKey>(),
        new Dictionary<string, MembersRecord>());

    private static PaymentRecord Declined() => Record([PaymentState.Offered, PaymentState.Displayed, PaymentState.Declined]);

    /// <summary>The plan's payment, moved through <paramref name="states"/> a second apart (the TV offers it, the phone does the rest).</summary>
    private static PaymentRecord Record(PaymentState[] states)
    {
        var record = new PaymentRecord
        {
            Input = new PaymentRequestInput(ChaosHousehold.HouseholdId, ChaosTopology.Initiator, "phone-1", "chaos-1-0", Plan.Info),
            CreatedAt = s_start,
            Deadline = s_start + Plan.ExpiresIn,
            Candidates = ["phone-1"],
        };
        var from = PaymentState.Created;
        foreach (var (state, second) in states.Select((state, n) => (state, n + 1)))
        {
            record.Apply([new PaymentTransition(from, state, s_start.AddSeconds(second), state == PaymentState.Offered ? "tv-1" : "phone-1", "test")]);
            from = state;
        }

        return record;
    }
}
