using Handoff.Silo.Hosting;

namespace Handoff.Cli.Load;

/// <summary>What a load run simulates and for how long.</summary>
internal sealed record LoadSettings
{
    /// <summary>Simulated households; each has its own roster, ledger and one initiator.</summary>
    public int Households { get; init; } = 50;

    /// <summary>Simulated payer devices per household, all carried by the one payer-agent silo.</summary>
    public int PayersPerHousehold { get; init; } = 4;

    /// <summary>Handoffs in flight at once (closed loop), or the cap on them when <see cref="Rate"/> is set.</summary>
    public int Concurrency { get; init; } = 256;

    /// <summary>Handoffs started per second (open loop, latency measured from the scheduled start); null for closed loop.</summary>
    public double? Rate { get; init; }

    /// <summary>How long to start handoffs; null when <see cref="Count"/> bounds the run.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>
    /// Handoffs run this long first (JIT tiering, pools, activations) and are left out of the throughput and the
    /// latency; the ledger check still covers them.
    /// </summary>
    public TimeSpan Warmup { get; init; }

    /// <summary>How many handoffs to start; null when <see cref="Duration"/> bounds the run.</summary>
    public long? Count { get; init; }

    /// <summary>Share of approvals by PIN (PBKDF2 on the device); the rest are biometric (a WebAuthn assertion of a software platform authenticator, verified by the hub).</summary>
    public double PinShare { get; init; }

    public HubStorageKind Storage { get; init; } = HubStorageKind.Memory;

    /// <summary>PostgreSQL connection string for <see cref="HubStorageKind.Postgres"/>.</summary>
    public string? Postgres { get; init; }

    /// <summary>SQLite data folder; null for a fresh temporary folder removed afterwards.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Soak mode: sample memory and activations and judge whether memory stays flat.</summary>
    public bool Soak { get; init; }

    /// <summary>Idle time after which Orleans collects an activation; short, so a long run shows whether activations go.</summary>
    public TimeSpan CollectionAge { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Orleans' grain directory cache size on the load silos; null for the household's (100,000 entries).</summary>
    public int? DirectoryCacheSize { get; init; }

    /// <summary>How often each silo's reminder service re-reads the reminder table; null for the household's (1 minute).</summary>
    public TimeSpan? ReminderRefresh { get; init; }

    /// <summary>
    /// <c>Handoff:Tracing:SampleRatio</c> of the load silos, which trace and export their spans to the hub's collector as a
    /// real hub and payer agent do; the hub's own default (every payment) unless given.
    /// </summary>
    public double SampleRatio { get; init; } = new Handoff.Telemetry.HandoffTracingOptions().SampleRatio;

    public string Describe() =>
        $"{Households} households x (1 initiator, {PayersPerHousehold} payers), concurrency {Concurrency}"
        + (Rate is { } rate ? $", rate {rate:0}/s" : "")
        + (Count is { } count ? $", {count} handoffs" : "")
        + (Duration is { } duration ? $", {duration.TotalSeconds:0} s" : "")
        + (Warmup > TimeSpan.Zero ? $" after {Warmup.TotalSeconds:0} s warm-up" : "")
        + $", PIN share {PinShare:P0}, storage {Storage.ToString().ToLowerInvariant()}, tracing {SampleRatio:0.###}"
        + (Soak ? ", soak" : "");
}
