using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;

namespace Handoff.Grains.Tests;

/// <summary>
/// One request offered to several payer devices, each on its own silo (phone-1 on Silo_1, phone-2 on Silo_2): every
/// one online shows the sheet, the first verified approval pays, the others close saying where it was paid.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class SeveralPayersTests(HouseholdCluster household)
{
    private static readonly PaymentInfo Tea = new(12.50m, "CNY", "Tea House");
    private static readonly string Phone1 = HouseholdCluster.Phone1.Id;
    private static readonly string Phone2 = HouseholdCluster.Phone2.Id;

    [Fact]
    public async Task Any_shows_the_sheet_on_every_online_payer_device_of_the_household_and_no_other()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, PayerChoice.Any);

        // watch-9 is paired but offline, phone-x belongs to the neighbours: neither is a candidate.
        Assert.Equal([Phone1, Phone2], payment.Payers);
        Assert.Equal(PayerChoice.Any, payment.PayerDeviceId);
        Assert.Null(payment.Payer);
        Assert.True(household.Sheet(Phone1).Shows(payment.PaymentId));
        Assert.True(household.Sheet(Phone2).Shows(payment.PaymentId));
        await household.Tv1.CancelAsync(payment.PaymentId);
        await WaitUntilClosedAsync(payment.PaymentId, Phone1, Phone2);
    }

    [Fact]
    public async Task Approvals_at_the_same_moment_on_two_devices_charge_exactly_once_every_time()
    {
        for (var round = 0; round < 50; round++)
        {
            var before = await household.LedgerAsync();
            var payment = await household.Tv1.RequestPaymentAsync(Tea with { Amount = 1m + round }, [Phone1, Phone2], $"race-{round}");
            Assert.Equal([Phone1, Phone2], payment.Payers);

            var attempts = await Task.WhenAll(
                ApproveAsync(Phone1, payment.PaymentId),
                ApproveAsync(Phone2, payment.PaymentId));

            // Exactly one approval won; the other was told, by code, where the payment was paid.
            var won = Assert.Single(attempts, attempt => attempt.Result is { Outcome: VerificationOutcome.Approved });
            var lost = Assert.Single(attempts, attempt => attempt.Error is not null);
            Assert.Equal(ErrorCodes.AlreadyPaid, lost.Error!.Code);
            Assert.Equal(won.Device, lost.Error.PaidOn);

            var paid = await household.Tv1.GetPaymentAsync(payment.PaymentId);
            Assert.Equal((PaymentState.Completed, won.Device), (paid.State, paid.Payer));
            var after = await household.LedgerAsync();
            var charge = Assert.Single(after.Entries, entry => entry.PaymentId == payment.PaymentId);
            Assert.Equal(LedgerAccounts.PayerAccount(won.Device), charge.DebitAccount);
            Assert.Equal(before.Entries.Count + 1, after.Entries.Count);
            await WaitUntilClosedAsync(payment.PaymentId, Phone1, Phone2);
        }
    }

    [Fact]
    public async Task The_other_sheet_closes_at_once_and_says_where_the_payment_was_paid()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, $"{Phone1},{Phone2}");
        var closed = household.NextSheetEventAsync(Phone2, SheetEvent.Closed, payment.PaymentId);

        var result = await household.Person(Phone1).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));

        Assert.Equal(VerificationOutcome.Approved, result.Outcome);
        var ending = await closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((PaymentState.Completed, $"paid on {Phone1}"), (ending.FinalState, ending.Reason));
        Assert.Equal(Phone1, (await household.Tv1.GetPaymentAsync(payment.PaymentId)).Payer);
    }

    [Fact]
    public async Task An_approval_pressed_after_the_other_sheet_closed_is_told_where_it_was_paid()
    {
        // The slower of two racing approvals may reach its agent after the winner's close already took the sheet
        // away: the person still hears already_paid and the winning device, never a bare "not pending".
        var payment = await household.Tv1.RequestPaymentAsync(Tea, [Phone1, Phone2]);
        await household.Person(Phone1).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        await WaitUntilClosedAsync(payment.PaymentId, Phone2);

        var late = await Assert.ThrowsAsync<AlreadyPaidException>(() =>
            household.Person(Phone2).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone2)));

        Assert.Equal((ErrorCodes.AlreadyPaid, Phone1), (late.Code, late.PaidOn));
        var again = await household.Person(Phone1).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal((VerificationOutcome.NotPending, PaymentState.Completed), (again.Outcome, again.Payment!.State));
    }

    [Fact]
    public async Task A_decline_on_one_device_ends_the_payment_and_closes_the_others()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, [Phone1, Phone2]);

        var declined = await household.Person(Phone2).DeclineAsync(payment.PaymentId);

        Assert.Equal(PaymentState.Declined, declined.Payment!.State);
        await WaitUntilClosedAsync(payment.PaymentId, Phone1);
        Assert.DoesNotContain((await household.LedgerAsync()).Entries, entry => entry.PaymentId == payment.PaymentId);
    }

    [Fact]
    public async Task An_offline_device_among_those_named_is_skipped_and_the_online_one_pays()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, [HouseholdCluster.OfflineWatch, Phone1]);

        Assert.Equal(PaymentState.Displayed, payment.State);
        Assert.True(household.Sheet(Phone1).Shows(payment.PaymentId));
        var result = await household.Person(Phone1).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal((PaymentState.Completed, Phone1), (result.Payment!.State, result.Payment.Payer));
    }

    [Fact]
    public async Task Only_the_devices_offered_the_payment_may_read_its_offer_approve_or_cancel_it()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, [Phone1]);
        var stranger = household.Client(HouseholdCluster.Home, Phone2);

        await Assert.ThrowsAsync<ForbiddenException>(() => stranger.CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(payment.PaymentId).GetOfferAsync()));
        await Assert.ThrowsAsync<ForbiddenException>(() => stranger.CancelAsync(payment.PaymentId));

        // phone-2 signs an approval as itself: it was not offered the payment, so its word counts for nothing.
        var offer = new PaymentOffer(payment.PaymentId, payment.HouseholdId, payment.InitiatorDeviceId, "Living room TV", Phone2, Tea, payment.Deadline, "guessed", [Phone2]);
        var approval = new PaymentApproval(payment.PaymentId, Phone2, "guessed", AuthMethod.Pin, household.Time.GetUtcNow())
        {
            Signature = household.Keys.Sign(Phone2, Signing.Approval(offer, AuthMethod.Pin)),
        };
        await Assert.ThrowsAsync<ForbiddenException>(() => stranger.CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(payment.PaymentId).AuthorizeAsync(approval)));
        var notShown = await household.Person(Phone2).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone2));
        Assert.Equal(VerificationOutcome.NotPending, notShown.Outcome);
        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(payment.PaymentId)).State);
        await household.Tv1.CancelAsync(payment.PaymentId);
    }

    [Theory]
    [InlineData("phone-1,phone-1", "twice")]
    [InlineData("phone-1,any", "stands alone")]
    [InlineData("tv-1,phone-1", "different device")]
    [InlineData("phone-1,,phone-2", "is required")]
    public async Task A_malformed_choice_of_payers_is_refused_naming_the_field(string choice, string message)
    {
        var error = await Assert.ThrowsAsync<ValidationException>(() => household.Tv1.RequestPaymentAsync(Tea, choice));

        Assert.Equal("payer", error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private async Task<Attempt> ApproveAsync(string device, string paymentId)
    {
        try
        {
            var pin = device == Phone1 ? HouseholdCluster.PinOf(HouseholdCluster.Phone1) : HouseholdCluster.PinOf(HouseholdCluster.Phone2);
            return new Attempt(device, await household.Person(device).ApproveWithPinAsync(paymentId, pin), null);
        }
        catch (AlreadyPaidException paid)
        {
            return new Attempt(device, null, paid);
        }
    }

    private Task WaitUntilClosedAsync(string paymentId, params string[] devices) =>
        HouseholdCluster.WaitUntilAsync(
            () => Task.FromResult(devices.All(device => !household.Sheet(device).Shows(paymentId))),
            $"the sheets of {string.Join(", ", devices)} to close {paymentId}");

    private sealed record Attempt(string Device, VerificationResult? Result, AlreadyPaidException? Error);
}
