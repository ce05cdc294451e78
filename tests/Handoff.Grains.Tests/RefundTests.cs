using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Tests;

/// <summary>Refunds of completed payments through the cluster: in parts, by key, never beyond the charge, only by the initiator.</summary>
[Collection(HouseholdCollection.Name)]
public sealed class RefundTests(HouseholdCluster household)
{
    private static readonly string Phone1 = HouseholdCluster.Phone1.Id;

    [Fact]
    public async Task Partial_refunds_follow_each_other_go_back_to_the_payer_and_stop_at_the_charge()
    {
        var paymentId = await PaidAsync(new PaymentInfo(30m, "CNY", "Refund Shop"));
        var before = await household.LedgerAsync();

        var first = await household.Tv1.RefundAsync(paymentId, 10m, "first");
        var second = await household.Tv1.RefundAsync(paymentId, 5.50m, "second");

        Assert.Equal(15.50m, second.Refunded);
        Assert.Equal(["first", "second"], second.Refunds.Select(refund => refund.Key));
        Assert.All(second.Refunds, refund => Assert.True(refund.Booked));
        Assert.Equal(PaymentState.Completed, second.State);
        Assert.Equal(10m, first.Refunded);

        var after = await household.LedgerAsync();
        Assert.Equal(Balance(before, "payer:phone-1/CNY") + 15.50m, Balance(after, "payer:phone-1/CNY"));
        Assert.Equal(Balance(before, "merchant:Refund Shop/CNY") - 15.50m, Balance(after, "merchant:Refund Shop/CNY"));
        var booked = after.Entries.Where(entry => LedgerAccounts.RefundedPayment(entry.PaymentId) == paymentId).ToList();
        Assert.Equal([10m, 5.50m], booked.Select(entry => entry.Amount));

        // 14.50 is left: 14.51 is refused and moves nothing, the rest (no amount) gives back exactly 14.50.
        var over = await Assert.ThrowsAsync<OverRefundException>(() => household.Tv1.RefundAsync(paymentId, 14.51m, "third"));
        Assert.Equal(ErrorCodes.OverRefund, over.Code);
        Assert.Equal(after.Entries.Count, (await household.LedgerAsync()).Entries.Count);
        var rest = await household.Tv1.RefundAsync(paymentId, null, "rest");
        Assert.Equal(30m, rest.Refunded);
        await Assert.ThrowsAsync<OverRefundException>(() => household.Tv1.RefundAsync(paymentId, 0.01m, "more"));
    }

    [Fact]
    public async Task The_same_key_is_the_same_refund_and_with_another_amount_a_conflict()
    {
        var paymentId = await PaidAsync(new PaymentInfo(8m, "CNY", "Refund Shop"));

        var once = await household.Tv1.RefundAsync(paymentId, 3m, "same-key");
        var again = await household.Tv1.RefundAsync(paymentId, 3m, "same-key");
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => household.Tv1.RefundAsync(paymentId, 4m, "same-key"));

        Assert.Equal(once.Refunds, again.Refunds);
        Assert.Equal(3m, again.Refunded);
        Assert.Contains("same-key", conflict.Message, StringComparison.Ordinal);
        var ledger = await household.LedgerAsync();
        Assert.Single(ledger.Entries, entry => LedgerAccounts.RefundedPayment(entry.PaymentId) == paymentId);
    }

    [Fact]
    public async Task Only_the_initiator_refunds_and_only_a_completed_payment_with_a_valid_amount()
    {
        var paymentId = await PaidAsync(new PaymentInfo(6m, "CNY", "Refund Shop"));

        // The payer, a stranger's signature, or the initiator's key over another amount: none moves money.
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Client(HouseholdCluster.Home, Phone1).RefundAsync(paymentId, 1m, "by-payer"));
        var forged = new RefundInput(paymentId, HouseholdCluster.Tv, "forged", 6m, household.Keys.Sign(HouseholdCluster.Tv, Signing.Refund(paymentId, HouseholdCluster.Tv, "forged", 1m)));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(paymentId).RefundAsync(forged)));
        await Assert.ThrowsAsync<NotFoundException>(() => household.Client(HouseholdCluster.Other, HouseholdCluster.OtherTv).RefundAsync(paymentId, 1m, "neighbour"));

        var negative = await Assert.ThrowsAsync<ValidationException>(() => household.Tv1.RefundAsync(paymentId, -1m, "negative"));
        Assert.Equal("amount", negative.Field);
        var fraction = await Assert.ThrowsAsync<ValidationException>(() => household.Tv1.RefundAsync(paymentId, 0.001m, "fraction"));
        Assert.Equal("amount", fraction.Field);
        var badKey = await Assert.ThrowsAsync<ValidationException>(() => household.Tv1.RefundAsync(paymentId, 1m, "a/b"));
        Assert.Equal("key", badKey.Field);
        Assert.Empty((await household.Tv1.GetPaymentAsync(paymentId)).Refunds);

        var open = await household.Tv1.RequestPaymentAsync(new PaymentInfo(2m, "CNY", "Refund Shop"), Phone1);
        var notPaid = await Assert.ThrowsAsync<NotRefundableException>(() => household.Tv1.RefundAsync(open.PaymentId, 1m, "too-early"));
        Assert.Equal(ErrorCodes.NotRefundable, notPaid.Code);
        await household.Tv1.CancelAsync(open.PaymentId);
    }

    [Fact]
    public async Task The_phone_that_paid_is_told_what_came_back()
    {
        var paymentId = await PaidAsync(new PaymentInfo(8m, "CNY", "Refund Shop"));
        var notice = household.NextSheetEventAsync(Phone1, Handoff.Grains.Payer.SheetEvent.Refunded, paymentId);

        await household.Tv1.RefundAsync(paymentId, 3m, "told");

        Assert.Equal("3.00 CNY of 8.00 CNY back from Refund Shop", (await notice).Reason);
    }

    [Fact]
    public async Task A_refund_survives_the_payment_leaving_memory()
    {
        var paymentId = await PaidAsync(new PaymentInfo(4m, "CNY", "Refund Shop"));
        var notice = household.NextSheetEventAsync(Phone1, Handoff.Grains.Payer.SheetEvent.Refunded, paymentId);
        await household.Tv1.RefundAsync(paymentId, 1m, "kept");

        // The phone reads the payment once it is told of the refund: after that, nothing calls the payment.
        await notice;
        await household.DeactivateAsync(household.Cluster.Client.GetGrain<IPaymentRequestGrain>(paymentId));

        var read = await household.Tv1.GetPaymentAsync(paymentId);
        Assert.Equal(1m, read.Refunded);
        var again = await household.Tv1.RefundAsync(paymentId, 1m, "kept");
        Assert.Equal(1m, again.Refunded);
    }

    private async Task<string> PaidAsync(PaymentInfo info)
    {
        var payment = await household.Tv1.RequestPaymentAsync(info, Phone1);
        var result = await household.Person(Phone1).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal(PaymentState.Completed, result.Payment!.State);
        return payment.PaymentId;
    }

    private static decimal Balance(LedgerView ledger, string key) => ledger.Balances.GetValueOrDefault(key);
}
