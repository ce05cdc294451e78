using Handoff.Contracts;
using Handoff.Silo.Hosting;

namespace Handoff.Grains.Tests;

/// <summary>
/// A watch whose hub holds its calls (a frozen or restarting hub answers nothing until Orleans' response timeout):
/// the app that stops watching gets its stop at once, not half a minute later. Here the hub holds every subscription
/// until the test lets it go.
/// </summary>
public sealed class WatchStopTests : IAsyncLifetime
{
    private static readonly PaymentInfo Tea = new(3m, "CNY", "Tea House");
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HouseholdCluster _household;
    private volatile bool _hold;

    public WatchStopTests()
    {
        _household = new HouseholdCluster(
            new Dictionary<string, PayerDevice[]> { ["Silo_1"] = [HouseholdCluster.Phone1] },
            (silo, builder) =>
            {
                if (silo == "Silo_0")
                {
                    builder.AddIncomingGrainCallFilter(async context =>
                    {
                        if (_hold && context.InterfaceMethod.Name is nameof(IPaymentRequestGrain.SubscribeAsync) or nameof(IPaymentRequestGrain.UnsubscribeAsync))
                        {
                            await _release.Task;
                        }

                        await context.Invoke();
                    });
                }
            });
    }

    public Task InitializeAsync() => _household.InitializeAsync();

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _household.DisposeAsync();
    }

    [Fact]
    public async Task A_watch_stopped_while_the_hub_holds_its_subscription_ends_at_once()
    {
        var payment = await _household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        _hold = true;
        using var stop = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            await foreach (var _ in _household.Tv1.WatchAsync(payment.PaymentId, stop.Token))
            {
            }
        });

        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.False(watching.IsCompleted, "the hub holds the subscription: the watch has had no answer yet");
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2), $"the stop took {stopped.Elapsed}");
    }
}
