using Handoff.LocalApi;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.PayerAgent;

/// <summary>Runs a payer agent until stopped, starting a fresh silo whenever the household's hub is lost or not up yet.</summary>
public static class PayerAgentRunner
{
    private static readonly TimeSpan RejoinDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRejoinDelay = TimeSpan.FromSeconds(10);

    /// <summary>Runs until <paramref name="stop"/>; <paramref name="onReady"/> is told each time the silo has joined.</summary>
    public static async Task RunAsync(PayerAgentSettings settings, Action<bool> onReady, Action<string> onProblem, CancellationToken stop)
    {
        var delay = RejoinDelay;
        var rejoin = false;

        // One token per launch, not per silo: an open sheet page keeps working across a rejoin.
        var token = LocalApiToken.Issue(settings.KeysFolder, LocalApiToken.PayerAgent, settings.HttpPort);
        while (!stop.IsCancellationRequested)
        {
            var app = PayerAgentHost.Build(settings, token);
            await using (app)
            {
                try
                {
                    await app.StartAsync(stop);
                }
                catch (Exception exception) when (!stop.IsCancellationRequested && exception is not OutOfMemoryException)
                {
                    onProblem($"cannot join the household hub yet ({exception.GetBaseException().Message}); retrying in {delay.TotalSeconds:0}s");
                    await StopQuietlyAsync(app);
                    await Task.Delay(delay, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRejoinDelay.Ticks));
                    continue;
                }

                delay = RejoinDelay;
                onReady(rejoin);
                var lost = app.Services.GetRequiredService<SiloLoss>().Lost;
                var stopping = Task.Delay(Timeout.Infinite, stop);
                var ended = Task.Delay(Timeout.Infinite, app.Lifetime.ApplicationStopping);
                await Task.WhenAny(lost, stopping, ended).ContinueWith(static _ => { }, TaskScheduler.Default);
                await StopQuietlyAsync(app);
                if (!lost.IsCompleted)
                {
                    return;
                }

                rejoin = true;
                onProblem("lost the household hub; rejoining");
            }

            await Task.Delay(RejoinDelay, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private static async Task StopQuietlyAsync(Microsoft.AspNetCore.Builder.WebApplication app)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await app.StopAsync(grace.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or Orleans.Runtime.OrleansException or InvalidOperationException)
        {
            // A silo that lost its cluster may not stop cleanly; disposing it releases its ports regardless.
        }
    }
}
