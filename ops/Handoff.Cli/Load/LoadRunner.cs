using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Handoff.Contracts;
using Handoff.Sdk;
using HdrHistogram;
using Orleans.Runtime;

namespace Handoff.Cli.Load;

/// <summary>One second of a run: what completed and failed in it, and the process's memory at its end.</summary>
internal sealed record LoadSample(double Second, long Completed, long Errors, long InFlight, double CpuPercent, double GcHeapMb, double WorkingSetMb, long? Activations, double? LiveHeapMb = null);

/// <summary>What the driver saw, before the ledger check.</summary>
internal sealed class LoadOutcome
{
    public required LongHistogram Latency { get; init; }

    /// <summary>From the request to the offer on the payer device's sheet (what the person waits for after "pay").</summary>
    public required LongHistogram TimeToSheet { get; init; }

    /// <summary>From the person's approval to the initiator seeing the result (what they wait for after "approve").</summary>
    public required LongHistogram ApproveToResult { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>The measured window: the run after its warm-up.</summary>
    public required TimeSpan Measured { get; init; }

    /// <summary>Handoffs completed within the measured window.</summary>
    public required long CompletedMeasured { get; init; }

    public required long Completed { get; init; }

    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    public required IReadOnlyList<LoadSample> Timeline { get; init; }

    public required long HandoffGrainCalls { get; init; }

    /// <summary>The processor time this process spent in the measured window, on every core.</summary>
    public required TimeSpan MeasuredCpu { get; init; }

    /// <summary>The bytes this process allocated in the measured window.</summary>
    public required long MeasuredAllocations { get; init; }

    /// <summary>Per household (same order as <see cref="LoadHousehold.Households"/>): completed count and amount in cents.</summary>
    public required long[] CompletedByHousehold { get; init; }

    public required long[] CentsByHousehold { get; init; }

    /// <summary>Payments that were created but did not complete: none of them may have a charge.</summary>
    public required IReadOnlyList<(int Household, string PaymentId)> NotCompleted { get; init; }

    /// <summary>A bounded sample of completed payments, re-read for the ledger check.</summary>
    public required IReadOnlyList<(int Household, string PaymentId, long Cents)> CompletedSample { get; init; }
}

/// <summary>
/// Drives many concurrent handoffs through the SDK like many initiators: request a payment from a payer
/// device, then follow it to its outcome; the simulated person on the payer device approves it.
/// </summary>
internal sealed class LoadRunner(LoadHousehold household, LoadSettings settings, Action<string>? progress)
{
    private const int SampleLimit = 500;
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

    private readonly LongHistogram _latency = NewHistogram();
    private readonly LongHistogram _timeToSheet = NewHistogram();
    private readonly LongHistogram _approveToResult = NewHistogram();
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly ConcurrentQueue<(int, string)> _notCompleted = new();
    private readonly ConcurrentQueue<(int, string, long)> _sample = new();
    private readonly List<LoadSample> _timeline = [];
    private long[] _completedByHousehold = [];
    private long[] _centsByHousehold = [];
    private long _issued;
    private long _completed;
    private long _completedMeasured;
    private long _failed;

    public async Task<LoadOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var households = household.Households;
        _completedByHousehold = new long[households.Count];
        _centsByHousehold = new long[households.Count];
        var initiators = households.Select(h => new HandoffClient(household.Client, h.Id, h.InitiatorId, household.Keys)).ToArray();
        var limit = settings.Count ?? long.MaxValue;
        var duration = settings.Count is null ? settings.Warmup + (settings.Duration ?? DefaultDuration) : settings.Duration is { } bound ? settings.Warmup + bound : TimeSpan.MaxValue;
        var callsBefore = household.Probe.HandoffCalls;
        var clock = Stopwatch.StartNew();
        var atStart = Usage();
        var atWarmup = settings.Warmup > TimeSpan.Zero ? Task.Delay(settings.Warmup, cancellationToken).ContinueWith(_ => Usage(), TaskScheduler.Default) : Task.FromResult(atStart);

        using var stopProgress = new CancellationTokenSource();
        var reporting = ReportProgressAsync(clock, stopProgress.Token);
        var workers = Enumerable.Range(0, settings.Concurrency)
            .Select(_ => Task.Run(() => WorkerAsync(initiators, clock, limit, duration, cancellationToken), CancellationToken.None))
            .ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed;
        var atEnd = Usage();
        var measuredFrom = elapsed > settings.Warmup ? await atWarmup : atStart;
        await stopProgress.CancelAsync();
        await reporting;

        return new LoadOutcome
        {
            Latency = _latency,
            TimeToSheet = _timeToSheet,
            ApproveToResult = _approveToResult,
            Elapsed = elapsed,
            Measured = elapsed > settings.Warmup ? elapsed - settings.Warmup : elapsed,
            CompletedMeasured = settings.Warmup > TimeSpan.Zero ? Interlocked.Read(ref _completedMeasured) : Interlocked.Read(ref _completed),
            Completed = Interlocked.Read(ref _completed),
            Errors = new Dictionary<string, long>(_errors),
            Timeline = _timeline,
            HandoffGrainCalls = household.Probe.HandoffCalls - callsBefore,
            MeasuredCpu = atEnd.Cpu - measuredFrom.Cpu,
            MeasuredAllocations = atEnd.Allocated - measuredFrom.Allocated,
            CompletedByHousehold = _completedByHousehold,
            CentsByHousehold = _centsByHousehold,
            NotCompleted = [.. _notCompleted],
            CompletedSample = [.. _sample],
        };
    }

    private async Task WorkerAsync(HandoffClient[] initiators, Stopwatch clock, long limit, TimeSpan duration, CancellationToken cancellationToken)
    {
        var households = household.Households;
        var warmupTicks = (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
        while (!cancellationToken.IsCancellationRequested)
        {
            var n = Interlocked.Increment(ref _issued) - 1;
            if (n >= limit || clock.Elapsed >= duration)
            {
                return;
            }

            long start;
            if (settings.Rate is { } rate)
            {
                // Open loop: each handoff has its slot; latency counts from the slot, so a stalled system cannot hide its queue.
                start = (long)(n / rate * Stopwatch.Frequency);
                var wait = TimeSpan.FromSeconds((start - clock.ElapsedTicks) / (double)Stopwatch.Frequency);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
                }
            }
            else
            {
                start = clock.ElapsedTicks;
            }

            var index = (int)(n % households.Count);
            var simulated = households[index];
            var payer = simulated.PayerIds[(int)(n / households.Count % simulated.PayerIds.Count)];
            var cents = 100 + (n % 9_900);
            string? paymentId = null;
            try
            {
                var info = new PaymentInfo(cents / 100m, "CNY", $"Load Shop {n % 7}");
                var asked = Stopwatch.GetTimestamp();
                var created = await initiators[index].RequestPaymentAsync(info, payer, orderKey: "o" + n.ToString(CultureInfo.InvariantCulture));
                paymentId = created.PaymentId;
                await initiators[index].AwaitOutcomeAsync(paymentId, cancellationToken);
                var end = clock.ElapsedTicks;
                var seen = Stopwatch.GetTimestamp();
                var (shown, approving) = household.Probe.TakeMoments(paymentId);

                // The measured window is the handoffs that end after the warm-up, for the latency as for the rate: an
                // open loop that has fallen behind still ends handoffs whose slots lay in the warm-up, and their
                // latency (from the slot) is exactly the backlog it has to show.
                if (end >= warmupTicks)
                {
                    lock (_latency)
                    {
                        Record(_latency, end - start);
                        if (shown is { } shownAt && approving is { } approvingAt)
                        {
                            Record(_timeToSheet, shownAt - asked);
                            Record(_approveToResult, seen - approvingAt);
                        }
                    }

                    Interlocked.Increment(ref _completedMeasured);
                }

                Interlocked.Increment(ref _completedByHousehold[index]);
                Interlocked.Add(ref _centsByHousehold[index], cents);
                Interlocked.Increment(ref _completed);
                if (_sample.Count < SampleLimit)
                {
                    _sample.Enqueue((index, paymentId, cents));
                }
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested || exception is not OperationCanceledException)
            {
                Interlocked.Increment(ref _failed);
                _errors.AddOrUpdate(Reason(exception), 1, (_, count) => count + 1);
                if (paymentId is not null)
                {
                    _notCompleted.Enqueue((index, paymentId));
                    household.Probe.TakeMoments(paymentId);
                }
            }
        }
    }

    private static (TimeSpan Cpu, long Allocated) Usage()
    {
        using var process = Process.GetCurrentProcess();
        return (process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: false));
    }

    private static LongHistogram NewHistogram() => new(TimeSpan.FromMinutes(10).Ticks / TimeSpan.TicksPerMicrosecond, 3);

    // Stopwatch ticks to microseconds, within what the histogram tracks.
    private static void Record(LongHistogram histogram, long ticks) =>
        histogram.RecordValue(Math.Clamp(ticks * 1_000_000 / Stopwatch.Frequency, 0, histogram.HighestTrackableValue));

    private async Task ReportProgressAsync(Stopwatch clock, CancellationToken stop)
    {
        var management = household.Client.GetGrain<IManagementGrain>(0);
        var lastCompleted = 0L;
        var lastFailed = 0L;
        var last = TimeSpan.Zero;
        using var process = Process.GetCurrentProcess();
        var lastCpu = process.TotalProcessorTime;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = clock.Elapsed;
                var completed = Interlocked.Read(ref _completed);
                var failed = Interlocked.Read(ref _failed);
                var inFlight = Math.Min(Interlocked.Read(ref _issued), settings.Count ?? long.MaxValue) - completed - failed;
                var seconds = (now - last).TotalSeconds;
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                long? activations = null;
                if (settings.Soak || _timeline.Count % 5 == 0)
                {
                    activations = await ActivationsAsync(management);
                }

                double? liveHeap = null;
                if (settings.Soak && _timeline.Count % 10 == 9)
                {
                    // Every 10 s of a soak: a full compacting collection, so the heap figure is live data, not garbage not yet collected.
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                    liveHeap = GC.GetTotalMemory(forceFullCollection: false) / 1048576.0;
                }

                var sample = new LoadSample(
                    Math.Round(now.TotalSeconds, 2),
                    completed - lastCompleted,
                    failed - lastFailed,
                    Math.Max(0, inFlight),
                    Math.Round((cpu - lastCpu).TotalSeconds / seconds / Environment.ProcessorCount * 100, 1),
                    GC.GetTotalMemory(forceFullCollection: false) / 1048576.0,
                    Environment.WorkingSet / 1048576.0,
                    activations,
                    liveHeap is { } live ? Math.Round(live, 1) : null);
                _timeline.Add(sample);
                var line = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{now.TotalSeconds,6:0}s  completed {completed,10:N0}  rate {sample.Completed / seconds,8:N0}/s  errors {failed,6:N0}  in flight {sample.InFlight,5:N0}  cpu {sample.CpuPercent,3:0}%  heap {sample.GcHeapMb,6:N0} MB  rss {sample.WorkingSetMb,6:N0} MB");
                progress?.Invoke(activations is { } count ? line + string.Create(CultureInfo.InvariantCulture, $"  activations {count,8:N0}") : line);
                lastCompleted = completed;
                lastFailed = failed;
                lastCpu = cpu;
                last = now;
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private static async Task<long?> ActivationsAsync(IManagementGrain management)
    {
        try
        {
            var statistics = await management.GetSimpleGrainStatistics().WaitAsync(TimeSpan.FromSeconds(2));
            return statistics.Sum(statistic => (long)statistic.ActivationCount);
        }
        catch (Exception exception) when (exception is TimeoutException or OrleansException)
        {
            return null;
        }
    }

    /// <summary>A short, stable name for why a handoff did not complete.</summary>
    public static string Reason(Exception exception) => exception switch
    {
        PaymentNotCompletedException ended => ended.Code + (ended.Payment.FailureReason is { } reason && ended.Code == ErrorCodes.Failed ? $" ({reason})" : ""),
        HandoffException handoff => handoff.Code,
        TimeoutException => "timeout",
        SiloUnavailableException => "silo_unavailable",
        OrleansMessageRejectionException => "message_rejected",
        OperationCanceledException => "cancelled_by_run",
        _ => exception.GetType().Name,
    };
}
