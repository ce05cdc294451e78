using Handoff.Contracts;
using Handoff.Silo.Hosting;

namespace Handoff.Grains.Tests;

/// <summary>
/// A payer device whose sheet cannot fetch its offer: in a cluster whose membership is changing, the device's call back
/// to the payment may reach a second, unloaded activation of it, which answers that the payment is not being offered
/// (found by <c>handoff chaos --seed 3 --duration 45 --storage postgres</c>). Here phone-2's silo gets that answer every
/// time. The payment stands, saved and shown on the other device, so its requester must be told about it, not refused.
/// </summary>
public sealed class OfferRefusedTests : IAsyncLifetime
{
    private static readonly PaymentInfo Tea = new(8m, "CNY", "Tea House");
    private readonly HouseholdCluster _household = new(
        new Dictionary<string, PayerDevice[]> { ["Silo_1"] = [HouseholdCluster.Phone1], ["Silo_2"] = [HouseholdCluster.Phone2] },
        (silo, builder) =>
        {
            if (silo == "Silo_2")
            {
                builder.AddOutgoingGrainCallFilter(context =>
                    context.InterfaceMethod.Name == nameof(IPaymentRequestGrain.GetOfferAsync)
                        ? throw new NotFoundException($"payment '{context.TargetId.Key}' is not being offered")
                        : context.Invoke());
            }
        });

    public Task InitializeAsync() => _household.InitializeAsync();

    public Task DisposeAsync() => _household.DisposeAsync();

    [Fact]
    public async Task A_device_that_cannot_fetch_its_offer_leaves_the_payment_to_the_device_that_shows_it()
    {
        var payment = await _household.Tv1.RequestPaymentAsync(Tea, [HouseholdCluster.Phone1.Id, HouseholdCluster.Phone2.Id]);

        Assert.Equal(PaymentState.Displayed, payment.State);
        Assert.True(_household.Sheet(HouseholdCluster.Phone1.Id).TryGet(payment.PaymentId, out _));
        Assert.False(_household.Sheet(HouseholdCluster.Phone2.Id).TryGet(payment.PaymentId, out _));
        Assert.Equal(PaymentState.Displayed, (await _household.Tv1.GetPaymentAsync(payment.PaymentId)).State);
    }

    [Fact]
    public async Task When_the_only_device_cannot_fetch_its_offer_the_request_is_refused_as_offline_and_forgotten()
    {
        var order = Guid.NewGuid().ToString("n");

        var refused = await Assert.ThrowsAsync<PayerOfflineException>(() => _household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id, order));

        Assert.Equal(HouseholdCluster.Phone2.Id, refused.DeviceId);
        await Assert.ThrowsAsync<NotFoundException>(() => _household.Tv1.GetPaymentAsync(PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, order)));
    }
}
