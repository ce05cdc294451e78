using System.Net;
using System.Security.Cryptography.X509Certificates;
using Handoff.Silo.Hosting;

namespace Handoff.Cli.Load;

/// <summary>
/// A running household or cluster that a load run drives instead of building its own (<c>handoff load --gateway</c>):
/// the simulated payer devices join it on a silo of this process, the simulated initiators connect to its gateway.
/// </summary>
/// <param name="Gateway">The hub gateway the initiators' client connects to.</param>
/// <param name="HubSilo">The hub's silo endpoint the payer silo joins (embedded mode); unused with <paramref name="Postgres"/>.</param>
/// <param name="ClusterHousehold">The household whose cluster this is (its cluster id); the run's households are new ones within it.</param>
/// <param name="AdminToken">The hub's admin token, which pairs the simulated devices.</param>
/// <param name="Postgres">Cluster mode: the membership database the payer silo joins through.</param>
/// <param name="Certificate">The household certificate when the household runs mutual TLS.</param>
/// <param name="Address">The address this process's payer silo advertises: the one the hub reaches it on.</param>
internal sealed record LoadTarget(
    IPEndPoint Gateway,
    IPEndPoint HubSilo,
    string ClusterHousehold,
    string AdminToken,
    string? Postgres,
    X509Certificate2? Certificate,
    IPAddress Address)
{
    public string Describe() =>
        $"the running household at gateway {Gateway}" + (Postgres is null ? $" (hub silo {HubSilo})" : " (PostgreSQL membership)")
        + (Certificate is null ? "" : ", TLS");

    /// <summary>The local address the operating system would use to reach <paramref name="remote"/>: what the hub can call back.</summary>
    public static IPAddress LocalAddressToward(IPAddress remote)
    {
        if (IPAddress.IsLoopback(remote))
        {
            return IPAddress.Loopback;
        }

        // A datagram socket's connect sends nothing; it only picks the route and with it the source address.
        using var socket = new System.Net.Sockets.Socket(remote.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Connect(remote, 9);
        return ((IPEndPoint)socket.LocalEndPoint!).Address;
    }
}

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

    /// <summary>A running household to drive; null to build one in this process.</summary>
    public LoadTarget? Target { get; init; }

    public string Describe() =>
        $"{Households} households x (1 initiator, {PayersPerHousehold} payers), concurrency {Concurrency}"
        + (Rate is { } rate ? $", rate {rate:0}/s" : "")
        + (Count is { } count ? $", {count} handoffs" : "")
        + (Duration is { } duration ? $", {duration.TotalSeconds:0} s" : "")
        + (Warmup > TimeSpan.Zero ? $" after {Warmup.TotalSeconds:0} s warm-up" : "")
        + $", PIN share {PinShare:P0}, "
        + (Target is { } target ? target.Describe() : $"storage {Storage.ToString().ToLowerInvariant()}")
        + $", tracing {SampleRatio:0.###}"
        + (Soak ? ", soak" : "");
}
