namespace Handoff.Cli.Chaos;

/// <summary>
/// One SDK watcher per accepted payment, in this process, as the TV's app follows its payments: what each watch saw is
/// kept for the verdict. A fault may cut a watch (the hub it talks to dies); the app then watches again, as apps do.
/// </summary>
internal sealed class ChaosWatchers(ChaosHousehold household, TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan Rewatch = TimeSpan.FromMilliseconds(500);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];

    public void Start(PaymentJournal payment)
    {
        lock (_running)
        {
            _running.Add(Task.Run(() => WatchAsync(payment, _stop.Token)));
        }
    }

    /// <summary>Waits (bounded) for every watch to see its payment end, then stops those that have not.</summary>
    public async Task StopAsync(TimeSpan within)
    {
        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running).WaitAsync(within, time).ContinueWith(static _ => { }, TaskScheduler.Default);
        await _stop.CancelAsync();
        await Task.WhenAll(running);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running);
        _stop.Dispose();
    }

    private async Task WatchAsync(PaymentJournal payment, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var seen = new List<IReadOnlyList<ChaosStep>>();
            var ended = false;
            try
            {
                await foreach (var snapshot in household.Tv.WatchAsync(payment.PaymentId, stop))
                {
                    seen.Add(ChaosStep.Of(snapshot.History));
                    ended = snapshot.IsTerminal;
                    payment.Ended |= ended;
                }
            }
            catch (Exception cut) when (cut is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                // A fault cut the watch (its hub died or froze): watch again.
                household.Log($"watch of {payment.PaymentId} cut after {seen.Count} state(s): {cut.GetType().Name}: {cut.Message}");
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                if (seen.Count > 0)
                {
                    payment.Watches.Enqueue(seen);
                }
            }

            if (ended)
            {
                return;
            }

            await Task.Delay(Rewatch, time, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }
}
