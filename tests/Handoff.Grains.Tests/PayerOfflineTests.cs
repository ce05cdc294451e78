using Handoff.Contracts;
using Handoff.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Grains.Tests;

/// <summary>A household whose only payer silo goes away: its payments must fail fast, never run elsewhere.</summary>
public sealed class PayerOfflineTests : IAsyncLifetime
{
    private static readonly PaymentInfo Tea = new(8m, "CNY", "Tea House");
    private readonly HouseholdCluster _household = new(new Dictionary<string, PayerDevice[]> { ["Silo_1"] = [HouseholdCluster.Phone1] });

    public Task InitializeAsync() => _household.InitializeAsync();

    public Task DisposeAsync() => _household.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_payer_whose_silo_went_down_fails_fast_as_offline_and_works_again_after_restart(bool crash)
    {
        var silo = _household.SiloCarrying(HouseholdCluster.Phone1.Id);
        var before = await _household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        Assert.Equal(silo.SiloAddress, _household.WhereActive(_household.Ability(HouseholdCluster.Phone1.Id)));

        if (crash)
        {
            await _household.Cluster.KillSiloAsync(silo);
        }
        else
        {
            await _household.Cluster.StopSiloAsync(silo);
        }

        await HouseholdCluster.WaitUntilAsync(
            async () => !(await _household.Tv1.ListPayerDevicesAsync()).Single(d => d.DeviceId == HouseholdCluster.Phone1.Id).Online,
            "the hub to see phone-1's silo gone",
            TimeSpan.FromSeconds(60));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PayerOfflineException>(() => _household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id));
        started.Stop();
        Assert.Equal(HouseholdCluster.Phone1.Id, error.DeviceId);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"offline refusal took {started.Elapsed}");
        Assert.Null(_household.WhereActive(_household.Ability(HouseholdCluster.Phone1.Id)));
        Assert.Equal(PaymentState.Displayed, (await _household.Tv1.GetPaymentAsync(before.PaymentId)).State);

        // The device comes back: the same payer role, on a fresh silo, takes payments again.
        await using var restarted = await _household.Cluster.StartSiloAsync(1, _household.Cluster.Options);
        await HouseholdCluster.WaitUntilAsync(
            async () => (await _household.Tv1.ListPayerDevicesAsync()).Single(d => d.DeviceId == HouseholdCluster.Phone1.Id).Online,
            "phone-1 to show online again");
        var after = await _household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        Assert.Equal(PaymentState.Displayed, after.State);
        var restartedBoard = restarted.SiloHost.Services.GetRequiredService<Payer.PaymentSheetBoard>();
        Assert.True(restartedBoard.TryGet(after.PaymentId, out _));
        await _household.Tv1.CancelAsync(after.PaymentId);
    }
}
