using System.Security.Cryptography;
using Handoff.Cli.Load;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;
using Handoff.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Grains.Tests;

/// <summary>
/// Household rules through the cluster (<see cref="RulesHousehold"/>): a member pays alone from their budget, a request
/// over a rule goes to every guardian's devices and the first guardian decides, the budget refills once a month in the
/// household's time zone, and nothing a member's device sends can change its rules or stand for a guardian.
/// </summary>
[Collection(RulesCollection.Name)]
public sealed class RulesTests(RulesHousehold rules)
{
    private static readonly string AlicePhone = RulesHousehold.AlicePhone.Id;
    private static readonly string CarolPhone = RulesHousehold.CarolPhone.Id;
    private static readonly string BobPhone = RulesHousehold.BobPhone.Id;
    private static readonly PersonRef Bob = new("bob", "Bob");
    private static readonly PersonRef Alice = new("alice", "Alice");
    private static readonly PersonRef Carol = new("carol", "Carol");

    private HouseholdCluster Household => rules.Household;

    private HandoffClient BobTv => Household.Client(HouseholdCluster.Home, HouseholdCluster.Tv);

    private HandoffClient Admin => Household.Client(HouseholdCluster.Home, "admin");

    [Fact]
    public async Task A_member_under_budget_pays_alone_from_the_budget_and_the_budget_goes_down()
    {
        var before = await BobLeftAsync();
        var payment = await BobTv.RequestPaymentAsync(new PaymentInfo(20m, "CNY", "Tea House"), BobPhone);

        Assert.Equal(Bob, payment.AskedBy);
        Assert.Equal((RuleCode.WithinBudget, false, before - 20m), (payment.Rule!.Code, payment.Rule.NeedsGuardian, payment.Rule.BudgetLeftAfter));
        Assert.Equal([BobPhone], payment.Payers);
        Assert.Equal(payment.CreatedAt + TimeSpan.FromMinutes(2), payment.Deadline);
        var offered = Assert.Single((await Household.Person(BobPhone).ProgramsAsync(payment.PaymentId))!);
        Assert.Equal(("budget:bob", before), (offered.Program.Id, offered.Left));

        var result = await Household.Person(BobPhone).ApproveWithPinAsync(payment.PaymentId, RulesHousehold.PinOf(BobPhone));

        Assert.Equal((PaymentState.Completed, "budget:bob"), (result.Payment!.State, result.Payment.Program));
        Assert.Null(result.Payment.Approval);
        Assert.Equal(before - 20m, await BobLeftAsync());
        var charge = await Household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(payment.PaymentId);
        Assert.Equal((LedgerAccounts.BudgetAccount("bob"), 20m), (charge!.DebitAccount, charge.Amount));

        // "Any" of a member within budget is any of their own devices, never a guardian's.
        var any = await BobTv.RequestPaymentAsync(new PaymentInfo(5m, "CNY", "Tea House"), PayerChoice.Any);
        Assert.Equal([BobPhone], any.Payers);
        await BobTv.CancelAsync(any.PaymentId);
    }

    [Fact]
    public async Task Over_a_rule_the_request_reaches_both_guardians_devices_and_the_first_approval_pays_from_the_guardians_program()
    {
        var budget = await BobLeftAsync();
        var ledger = await Household.LedgerAsync();
        var payment = await BobTv.RequestPaymentAsync(new PaymentInfo(150m, "CNY", "Toy Shop"), BobPhone);

        Assert.Equal((RuleCode.OverCeiling, "over Bob's ceiling of 120.00 CNY per payment"), (payment.Rule!.Code, payment.Rule.Text));
        Assert.Equal([Alice, Carol], payment.Rule.Guardians);
        Assert.Equal([AlicePhone, CarolPhone], payment.Payers);
        Assert.Equal(payment.CreatedAt + TimeSpan.FromHours(24), payment.Deadline);
        Assert.True(payment.AwaitsGuardian);
        Assert.True(Household.Sheet(AlicePhone).TryGet(payment.PaymentId, out var aliceOffer));
        Assert.True(Household.Sheet(CarolPhone).Shows(payment.PaymentId));
        // Silo_1 carries Bob's phone too: its sheet shows the request for Alice's phone, never for Bob's.
        Assert.Equal((AlicePhone, Bob, Signing.RequestDigest(InputOf(payment))), (aliceOffer!.PayerDeviceId, aliceOffer.AskedBy, aliceOffer.RequestDigest));

        var attempts = await Task.WhenAll(
            ApproveAsync(AlicePhone, payment.PaymentId, "alice-card"),
            ApproveAsync(CarolPhone, payment.PaymentId, "carol-card"));

        var won = Assert.Single(attempts, attempt => attempt.Error is null);
        var lost = Assert.Single(attempts, attempt => attempt.Error is not null);
        Assert.Equal((ErrorCodes.AlreadyPaid, won.Device), (lost.Error!.Code, lost.Error.PaidOn));
        var paid = await BobTv.GetPaymentAsync(payment.PaymentId);
        var guardian = won.Device == AlicePhone ? Alice : Carol;
        Assert.Equal((PaymentState.Completed, won.Program, guardian, won.Device), (paid.State, paid.Program, paid.Approval!.Guardian, paid.Approval.DeviceId));
        Assert.False(paid.AwaitsGuardian);

        // One charge, from the guardian's program; the member's budget is untouched; the approval kept verifies.
        var after = await Household.LedgerAsync();
        Assert.Equal(ledger.Entries.Count + 1, after.Entries.Count);
        Assert.Equal(LedgerAccounts.ProgramAccount(won.Program), Assert.Single(after.Entries, entry => entry.PaymentId == payment.PaymentId).DebitAccount);
        Assert.Equal(budget, await BobLeftAsync());
        var offer = await Household.Client(HouseholdCluster.Home, won.Device).CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(payment.PaymentId).GetOfferAsync());
        var device = await Admin.AsAdmin(HouseholdCluster.AdminToken).CallAsync(grains => grains.GetGrain<IDeviceGrain>(won.Device).GetStatusAsync());
        Assert.True(Signing.Verify(device!.PublicKey, Signing.GuardianApproval(offer, AuthMethod.Pin, won.Program), paid.Approval.Signature));
    }

    [Fact]
    public async Task A_guardians_decline_is_final_closes_the_other_guardians_sheet_and_charges_nothing()
    {
        var ledger = await Household.LedgerAsync();
        var payment = await BobTv.RequestPaymentAsync(new PaymentInfo(30m, "CNY", "Game Shop"), BobPhone);
        Assert.Equal((RuleCode.GuardianMerchant, "Game Shop always needs a guardian"), (payment.Rule!.Code, payment.Rule.Text));
        var closed = Household.NextSheetEventAsync(AlicePhone, SheetEvent.Closed, payment.PaymentId);

        var declined = await Household.Person(CarolPhone).DeclineAsync(payment.PaymentId);

        Assert.Equal((PaymentState.Declined, "declined on payer device (guardian Carol)"), (declined.Payment!.State, declined.Payment.FailureReason));
        Assert.Equal(PaymentState.Declined, (await closed.WaitAsync(TimeSpan.FromSeconds(10))).FinalState);
        var late = await Household.Person(AlicePhone).ApproveWithPinAsync(payment.PaymentId, RulesHousehold.PinOf(AlicePhone), "alice-card");
        Assert.Equal((VerificationOutcome.NotPending, PaymentState.Declined), (late.Outcome, late.Payment!.State));
        Assert.Equal(ledger.Entries.Count, (await Household.LedgerAsync()).Entries.Count);

        // A category that always needs a guardian does so whatever the amount.
        var game = await BobTv.RequestPaymentAsync(new PaymentInfo(1m, "CNY", "Toy Shop", Category: "games"), BobPhone);
        Assert.Equal((RuleCode.GuardianCategory, true), (game.Rule!.Code, game.AwaitsGuardian));
        await BobTv.CancelAsync(game.PaymentId);
    }

    [Fact]
    public async Task The_budget_refills_once_at_midnight_on_the_first_in_the_households_time_zone()
    {
        var spend = await BobTv.RequestPaymentAsync(new PaymentInfo(15m, "CNY", "Tea House"), BobPhone);
        await Household.Person(BobPhone).ApproveWithPinAsync(spend.PaymentId, RulesHousehold.PinOf(BobPhone));
        var spent = await BobLeftAsync();
        Assert.True(spent < RulesHousehold.BobMonthly, $"Bob has {spent} left after paying");

        // Midnight of the next 1st in Shanghai is still the day before in UTC: the household's clock decides.
        var zone = TimeZoneInfo.FindSystemTimeZoneById(RulesHousehold.TimeZone);
        var local = TimeZoneInfo.ConvertTime(Household.Time.GetUtcNow(), zone);
        var nextMonth = new DateTime(local.Year, local.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1);
        var boundary = new DateTimeOffset(nextMonth, zone.GetUtcOffset(nextMonth));
        Household.Time.Advance(boundary.AddMinutes(-1) - Household.Time.GetUtcNow());
        Assert.Equal(spent, await BobLeftAsync());

        Household.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.NotEqual(nextMonth.Month, Household.Time.GetUtcNow().UtcDateTime.Month);
        Assert.Equal(RulesHousehold.BobMonthly, await BobLeftAsync());

        // Read again, and again after the rules start over from the store: the month's refill is booked once.
        var reference = LedgerAccounts.RefillReference("bob", "CNY", nextMonth.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture));
        await BobLeftAsync();
        await Household.DeactivateAsync(Household.Authority.GetGrain<IHouseholdRulesGrain>(HouseholdCluster.Home));
        Assert.Equal(RulesHousehold.BobMonthly, await BobLeftAsync());
        var refill = Assert.Single((await Household.LedgerAsync()).Entries, entry => entry.PaymentId == reference);
        Assert.Equal((LedgerAccounts.ProgramAccount("wallet"), LedgerAccounts.BudgetAccount("bob"), RulesHousehold.BobMonthly - spent), (refill.DebitAccount, refill.CreditAccount, refill.Amount));
    }

    [Fact]
    public async Task Rules_that_ask_no_guardian_refuse_with_budget_exceeded_or_not_allowed_and_create_nothing()
    {
        var dan = Household.Client(HouseholdCluster.Home, RulesHousehold.DanTv);

        var over = await Assert.ThrowsAsync<BudgetExceededException>(() => dan.RequestPaymentAsync(new PaymentInfo(60m, "CNY", "Tea House"), AlicePhone, "dan-over"));
        var casino = await Assert.ThrowsAsync<NotAllowedException>(() => dan.RequestPaymentAsync(new PaymentInfo(5m, "CNY", "Casino"), AlicePhone, "dan-casino"));
        var notOwn = await Assert.ThrowsAsync<NotAllowedException>(() => dan.RequestPaymentAsync(new PaymentInfo(5m, "CNY", "Tea House"), AlicePhone, "dan-alone"));

        Assert.Equal((ErrorCodes.BudgetExceeded, "dan", 50m, "CNY"), (over.Code, over.MemberId, over.Left, over.Currency));
        Assert.Equal(ErrorCodes.NotAllowed, casino.Code);
        Assert.Contains("Casino always needs a guardian", casino.Message, StringComparison.Ordinal);
        Assert.Contains("none of the devices asked to pay is Dan's", notOwn.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotFoundException>(() => dan.GetPaymentAsync(PaymentIds.For(HouseholdCluster.Home, RulesHousehold.DanTv, "dan-over")));
    }

    [Fact]
    public async Task A_members_devices_cannot_change_their_rules_nor_ask_for_a_decision_or_a_budget()
    {
        var generous = RulesHousehold.BobRules with { Budgets = [new MemberBudget("CNY", 100_000m, "wallet")], GuardianMerchants = [] };
        foreach (var device in new[] { HouseholdCluster.Tv, BobPhone })
        {
            var bob = Household.Client(HouseholdCluster.Home, device);
            foreach (var token in new[] { string.Empty, "guess", HouseholdCluster.AdminToken.ToUpperInvariant() })
            {
                await Assert.ThrowsAsync<ForbiddenException>(() => bob.SetRulesAsync(token, generous));
                await Assert.ThrowsAsync<ForbiddenException>(() => bob.CallAsync(grains => grains.GetGrain<IHouseholdRulesGrain>(HouseholdCluster.Home).SetAsync(token, generous)));
                await Assert.ThrowsAsync<ForbiddenException>(() => bob.SetTimeZoneAsync(token, "Pacific/Kiritimati"));
            }

            await Assert.ThrowsAsync<ForbiddenException>(() => bob.CallAsync(grains => grains.GetGrain<IHouseholdRulesGrain>(HouseholdCluster.Home).DecideAsync(new HouseholdMember("bob", "Bob", MemberRole.Member, [device]), new PaymentInfo(1m, "CNY", "Tea House"), [BobPhone])));
            await Assert.ThrowsAsync<ForbiddenException>(() => bob.CallAsync(grains => grains.GetGrain<IHouseholdRulesGrain>(HouseholdCluster.Home).FundAsync("bob", 1m, "CNY")));
            await Assert.ThrowsAsync<ForbiddenException>(() => bob.CallAsync(grains => grains.GetGrain<IHouseholdRulesGrain>(HouseholdCluster.Home).GuardianOfAsync(device)));
        }

        var kept = await BobTv.GetRulesAsync();
        Assert.Equal(RulesHousehold.TimeZone, kept.TimeZone);
        Assert.Equal(RulesHousehold.BobRules.Budgets, kept.Members.Single(member => member.MemberId == "bob").Budgets);
    }

    [Fact]
    public async Task No_approval_but_a_current_guardians_signed_over_this_very_request_moves_the_payment_and_one_pays_once()
    {
        var payment = await BobTv.RequestPaymentAsync(new PaymentInfo(130m, "CNY", "Toy Shop"), BobPhone, "forgery-target");
        var other = await BobTv.RequestPaymentAsync(new PaymentInfo(140m, "CNY", "Toy Shop"), BobPhone, "forgery-other");
        var offer = await OfferAsync(AlicePhone, payment.PaymentId);
        var otherOffer = await OfferAsync(AlicePhone, other.PaymentId);
        var ledger = await Household.LedgerAsync();

        // Bob's own phone, signing a guardian approval of his own request: it is no guardian's, and was never offered it.
        var bobs = offer with { PayerDeviceId = BobPhone };
        await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(BobPhone, Approval(bobs, Signing.GuardianApproval(bobs, AuthMethod.Pin, "budget:bob"), "budget:bob")));

        // Alice's key over the wrong statement: another payment's, another amount, another request, or a payer's approval.
        await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(AlicePhone, Approval(offer, Signing.GuardianApproval(otherOffer, AuthMethod.Pin, "alice-card"), "alice-card")));
        var cheaper = offer with { Info = offer.Info with { Amount = 1m } };
        await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(AlicePhone, Approval(offer, Signing.GuardianApproval(cheaper, AuthMethod.Pin, "alice-card"), "alice-card")));
        var otherRequest = offer with { RequestDigest = otherOffer.RequestDigest };
        await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(AlicePhone, Approval(offer, Signing.GuardianApproval(otherRequest, AuthMethod.Pin, "alice-card"), "alice-card")));
        var asPayer = offer with { Rule = null };
        await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(AlicePhone, Approval(offer, Signing.Approval(asPayer, AuthMethod.Pin, "alice-card"), "alice-card")));

        // Carol's well-signed approval, once Carol is no guardian any more: refused.
        var carolOffer = await OfferAsync(CarolPhone, payment.PaymentId);
        await Admin.SetMemberRoleAsync(HouseholdCluster.AdminToken, "carol", MemberRole.Member);
        try
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(CarolPhone, Approval(carolOffer, Signing.GuardianApproval(carolOffer, AuthMethod.Pin, "carol-card"), "carol-card")));
        }
        finally
        {
            await Admin.SetMemberRoleAsync(HouseholdCluster.AdminToken, "carol", MemberRole.Guardian);
        }

        Assert.Equal(PaymentState.Displayed, (await BobTv.GetPaymentAsync(payment.PaymentId)).State);
        Assert.Equal(ledger.Entries.Count, (await Household.LedgerAsync()).Entries.Count);

        // Alice's own, right approval pays; the same approval again (a replay) is told where it was paid and moves nothing.
        var approval = Approval(offer, Signing.GuardianApproval(offer, AuthMethod.Pin, "alice-card"), "alice-card");
        var paid = await SendAsync(AlicePhone, approval);
        Assert.Equal((PaymentState.Completed, Alice), (paid.State, paid.Approval!.Guardian));
        var replay = await Assert.ThrowsAsync<AlreadyPaidException>(() => SendAsync(AlicePhone, approval));
        Assert.Equal(AlicePhone, replay.PaidOn);
        Assert.Equal(ledger.Entries.Count + 1, (await Household.LedgerAsync()).Entries.Count);
        await BobTv.CancelAsync(other.PaymentId);
    }

    [Fact]
    public async Task A_request_for_a_guardian_outlives_its_authoritys_restart_and_its_approval_charges_once()
    {
        var payment = await BobTv.RequestPaymentAsync(new PaymentInfo(125m, "CNY", "Toy Shop"), BobPhone);
        var authority = Household.Authority.GetGrain<IPaymentRequestGrain>(payment.PaymentId);
        await Household.DeactivateAsync(authority);

        var reloaded = await BobTv.GetPaymentAsync(payment.PaymentId);
        Assert.Equal((payment.Deadline, RuleCode.OverCeiling, Bob), (reloaded.Deadline, reloaded.Rule!.Code, reloaded.AskedBy));
        Assert.Equal([Alice, Carol], reloaded.Rule.Guardians);
        var result = await Household.Person(CarolPhone).ApproveWithPinAsync(payment.PaymentId, RulesHousehold.PinOf(CarolPhone), "carol-card");
        Assert.Equal((PaymentState.Completed, Carol), (result.Payment!.State, result.Payment.Approval!.Guardian));

        await Household.DeactivateAsync(authority);
        await Assert.ThrowsAsync<AlreadyPaidException>(() => Household.Person(AlicePhone).ApproveWithPinAsync(payment.PaymentId, RulesHousehold.PinOf(AlicePhone), "alice-card"));
        Assert.Single((await Household.LedgerAsync()).Entries, entry => entry.PaymentId == payment.PaymentId);
    }

    [Fact]
    public async Task A_guardian_approves_by_fingerprint_over_the_guardian_statement_and_an_assertion_over_a_payers_is_refused()
    {
        using var authenticator = new SoftwarePlatformAuthenticator();
        var credentials = Household.Cluster.GetSiloServiceProvider(Household.SiloCarrying(AlicePhone).SiloAddress).GetRequiredService<PlatformCredentials>();
        await credentials.CompleteAsync(AlicePhone, authenticator.Attest(await credentials.BeginAsync(AlicePhone, authenticator.Origin)));
        var payment = await BobTv.RequestPaymentAsync(new PaymentInfo(135m, "CNY", "Toy Shop"), BobPhone, "fingerprint");
        Assert.True(Household.Sheet(AlicePhone).TryGet(payment.PaymentId, out var offer));
        var alice = Household.Person(AlicePhone);

        // The sheet asks the authenticator for the guardian's statement, which names Bob's request.
        var asked = await alice.WebAuthnRequestAsync(payment.PaymentId, "alice-card");
        Assert.Equal(Signing.GuardianApproval(offer!, AuthMethod.Biometric, "alice-card"), asked!.Statement);
        Assert.Equal(SHA256.HashData(asked.Statement), asked.Challenge);

        // An assertion over the payer's statement of the same transaction (no request named) moves nothing.
        var asPayer = SHA256.HashData(Signing.Approval(offer! with { Rule = null }, AuthMethod.Biometric, "alice-card"));
        await Assert.ThrowsAsync<ForbiddenException>(() => alice.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(asPayer), "alice-card"));
        Assert.Equal(PaymentState.Displayed, (await BobTv.GetPaymentAsync(payment.PaymentId)).State);
        Assert.Null(await Household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(payment.PaymentId));

        var paid = await alice.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(asked.Challenge), "alice-card");

        Assert.Equal((PaymentState.Completed, Alice, AuthMethod.Biometric), (paid.Payment!.State, paid.Payment.Approval!.Guardian, paid.Payment.Approval.Method));

        // The charge carries Bob's TV's request and Alice's phone's guardian approval that names it, each verifying.
        var charge = await Household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(payment.PaymentId);
        var signed = charge!.Evidence!.Signed;
        Assert.Equal([HouseholdCluster.Tv, AlicePhone], signed.Select(statement => statement.DeviceId));
        Assert.All(signed, statement => Assert.True(statement.Verifies, $"the statement of {statement.DeviceId} does not verify"));
        Assert.Equal(asked.Statement, signed[1].Statement);
        var approved = Signing.Read(signed[1].Statement)!;
        Assert.Equal(
            (StatementKinds.GuardianApproval, "Biometric", "bob", Signing.Digest(signed[0].Statement)),
            (approved.Kind, approved[StatementField.Method], approved[StatementField.AskedBy], approved[StatementField.RequestDigest]));
    }

    private async Task<decimal> BobLeftAsync() => Assert.Single(await BobTv.ListBudgetsAsync("bob")).Left;

    private Task<PaymentOffer> OfferAsync(string device, string paymentId) =>
        Household.Client(HouseholdCluster.Home, device).CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(paymentId).GetOfferAsync());

    private PaymentApproval Approval(PaymentOffer offer, byte[] statement, string program) =>
        new(offer.PaymentId, offer.PayerDeviceId, offer.Nonce, AuthMethod.Pin, Household.Time.GetUtcNow(), Household.Keys.Sign(offer.PayerDeviceId, statement), ProgramId: program);

    private Task<PaymentSnapshot> SendAsync(string device, PaymentApproval approval) =>
        Household.Client(HouseholdCluster.Home, device).CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(approval.PaymentId).AuthorizeAsync(approval));

    /// <summary>What the TV signed: the SDK's request, as the authority recorded it.</summary>
    private static PaymentRequestInput InputOf(PaymentSnapshot payment) =>
        new(payment.HouseholdId, payment.InitiatorDeviceId, payment.PayerDeviceId, payment.OrderKey, payment.Info);

    private async Task<(string Device, string Program, AlreadyPaidException? Error)> ApproveAsync(string device, string paymentId, string program)
    {
        try
        {
            await Household.Person(device).ApproveWithPinAsync(paymentId, RulesHousehold.PinOf(device), program);
            return (device, program, null);
        }
        catch (AlreadyPaidException paid)
        {
            return (device, program, paid);
        }
    }
}
