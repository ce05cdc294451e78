using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Handoff.Contracts;
using Handoff.Contracts.Hosting;
using Handoff.Contracts.Security;
using Handoff.Grains;
using Handoff.Grains.Payer;
using Handoff.Sdk;
using Handoff.Silo.Hosting;
using Handoff.Silo.Telemetry;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Handoff.Cli.Load;

/// <summary>One simulated household: its initiator and the payer devices it pays with.</summary>
internal sealed record SimulatedHousehold(string Id, string InitiatorId, IReadOnlyList<string> PayerIds);

/// <summary>
/// The households of a load run, hosted in this process with the real hosting: a hub silo, one payer-agent
/// silo carrying every simulated payer device (real TCP on loopback between them), and one client the
/// simulated initiators share.
/// </summary>
internal sealed class LoadHousehold : IAsyncDisposable
{
    /// <summary>The PIN every simulated payer device is set up with.</summary>
    public const string Pin = "2468";

    private const string OwnAdminToken = "load-admin-token";
    private string _adminToken = OwnAdminToken;
    private readonly List<IHost> _hosts = [];
    private string? _temporaryData;

    private LoadHousehold(string runId)
    {
        RunId = runId;
    }

    public string RunId { get; }

    public IClusterClient Client { get; private set; } = null!;

    /// <summary>The initiators' keys, as each initiator's own SDK would hold its own.</summary>
    public KeyRingSigner Keys { get; } = new();

    public IReadOnlyList<SimulatedHousehold> Households { get; private set; } = [];

    /// <summary>Grain calls and payer-side outcomes, counted inside the silos.</summary>
    public LoadProbe Probe { get; } = new();

    /// <summary>The simulated payer devices' platform authenticators, registered with the hub like a payer page's.</summary>
    public SoftwareAuthenticators Authenticators { get; } = new();

    private PlatformCredentials _payerCredentials = null!;

    /// <summary>Starts the silos and the client and pairs every simulated device.</summary>
    /// <param name="configureHub">Extra hub configuration (the bench adds its ping grain's placement here).</param>
    public static async Task<LoadHousehold> StartAsync(LoadSettings settings, CancellationToken cancellationToken, Action<ISiloBuilder>? configureHub = null)
    {
        var household = new LoadHousehold(Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..8]);
        try
        {
            await household.StartCoreAsync(settings, configureHub, cancellationToken);
            return household;
        }
        catch
        {
            await household.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(LoadSettings settings, Action<ISiloBuilder>? configureHub, CancellationToken cancellationToken)
    {
        // Households are new on every run, so a durable store reused across runs still audits only this run.
        var households = Enumerable.Range(1, settings.Households)
            .Select(n => new SimulatedHousehold(
                $"load-{RunId}-{n}",
                $"tv-{RunId}-{n}",
                [.. Enumerable.Range(1, settings.PayersPerHousehold).Select(p => $"phone-{RunId}-{n}-{p}")]))
            .ToList();
        var pin = PinHash.Of(Pin);
        var devices = households.SelectMany(h => h.PayerIds)
            .Select(id => new PayerDevice(id, id, DeviceKind.Phone, pin, Signing.NewKey()))
            .ToList();

        if (settings.Target is { } target)
        {
            await JoinAsync(settings, target, devices, cancellationToken);
        }
        else
        {
            await HostAsync(settings, configureHub, devices, cancellationToken);
        }

        using var pairing = new SemaphoreSlim(16);
        await Task.WhenAll(households.Select(async simulated =>
        {
            await pairing.WaitAsync(cancellationToken);
            try
            {
                await PairAsync(simulated, devices, cancellationToken);
            }
            finally
            {
                pairing.Release();
            }
        }));
        Households = households;
    }

    /// <summary>The household in this process: a hub silo, the payer silo, the initiators' client, all on loopback.</summary>
    private async Task HostAsync(LoadSettings settings, Action<ISiloBuilder>? configureHub, IReadOnlyList<PayerDevice> devices, CancellationToken cancellationToken)
    {
        var storage = await StorageAsync(settings, cancellationToken);
        var clusterId = $"handoff-load-{RunId}";
        var hubSilo = FreePort();
        var hubGateway = FreePort();

        var hub = SiloHost(settings, "hub", hub: true, silo =>
        {
            silo.UseHouseholdNetwork(new HouseholdNetwork(IPAddress.Loopback, hubSilo, hubGateway, HubSiloEndpoint: null, clusterId));
            silo.AddHandoffHub(storage);
            configureHub?.Invoke(silo);
        });
        await StartAsync(hub, cancellationToken);

        var payer = PayerSiloHost(settings, devices, new HouseholdNetwork(IPAddress.Loopback, FreePort(), FreePort(), new IPEndPoint(IPAddress.Loopback, hubSilo), clusterId));
        await StartAsync(payer, cancellationToken);
        _payerCredentials = payer.Services.GetRequiredService<PlatformCredentials>();

        await ConnectAsync(clusterId, client => client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, hubGateway)), cancellationToken);
    }

    /// <summary>
    /// A running household: the payer silo joins its cluster as a payer agent's does (through the hub's silo, or the
    /// PostgreSQL membership of a cluster), the initiators' client connects to its gateway, both with its certificate.
    /// </summary>
    private async Task JoinAsync(LoadSettings settings, LoadTarget target, IReadOnlyList<PayerDevice> devices, CancellationToken cancellationToken)
    {
        _adminToken = target.AdminToken;
        var clusterId = Handoff.Contracts.Households.ClusterIdOf(target.ClusterHousehold);
        var payer = PayerSiloHost(settings, devices, new HouseholdNetwork(
            target.Address,
            FreePort(target.Address),
            0,
            target.Postgres is null ? target.HubSilo : null,
            clusterId,
            target.Postgres,
            target.Certificate));
        await StartAsync(payer, cancellationToken);
        _payerCredentials = payer.Services.GetRequiredService<PlatformCredentials>();
        await ConnectAsync(
            clusterId,
            client =>
            {
                client.UseStaticClustering(target.Gateway);
                HouseholdTls.Apply(client, target.Certificate);
            },
            cancellationToken);
    }

    private IHost PayerSiloHost(LoadSettings settings, IReadOnlyList<PayerDevice> devices, HouseholdNetwork network) =>
        SiloHost(settings, "payer load", hub: false, silo =>
        {
            silo.Services.AddSingleton(new SimulatedPerson.Mix(settings.PinShare));
            silo.Services.AddSingleton(Authenticators);
            silo.Services.AddSingleton<IPaymentSheet, SimulatedPerson>();
            silo.UseHouseholdNetwork(network);
            silo.AddHandoffPayer(devices);
        });

    private async Task ConnectAsync(string clusterId, Action<IClientBuilder> clustering, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        Quiet(builder.Logging);
        builder.UseOrleansClient(client =>
        {
            client.Services.AddGrainInterfaceTypeCache();
            clustering(client);
            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = clusterId;
                cluster.ServiceId = Handoff.Contracts.Households.ServiceId;
            });
        });
        var clientHost = builder.Build();
        _hosts.Add(clientHost);
        await StartAsync(clientHost, cancellationToken);
        Client = clientHost.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>The household's administrator (the admin token's session): reads its ledger and payments.</summary>
    public HandoffClient Admin(string householdId) =>
        _admins.GetOrAdd(householdId, id => new HandoffClient(Client, id, Contracts.Households.AdminDevice).AsAdmin(_adminToken));

    private readonly ConcurrentDictionary<string, HandoffClient> _admins = new(StringComparer.Ordinal);

    private async Task PairAsync(SimulatedHousehold simulated, IReadOnlyList<PayerDevice> devices, CancellationToken cancellationToken)
    {
        var admin = new HandoffClient(Client, simulated.Id, "admin");
        var initiatorKey = Signing.NewKey();
        Keys.Add(simulated.InitiatorId, initiatorKey);
        var code = await admin.CreatePairingCodeAsync(_adminToken);
        await new HandoffClient(Client, simulated.Id, simulated.InitiatorId)
            .PairAsync(code.Code, "Load TV", DeviceKind.Tv, DeviceRole.Initiator, Signing.PublicKeyOf(initiatorKey));
        foreach (var payerId in simulated.PayerIds)
        {
            var device = devices.First(d => d.Id == payerId);
            code = await admin.CreatePairingCodeAsync(_adminToken);
            await new HandoffClient(Client, simulated.Id, payerId).PairAsync(code.Code, device.DisplayName, device.Kind, DeviceRole.Payer, device.PublicKey);

            // As the payer agent does for its page: the device itself registers, the hub checks the attestation.
            await Authenticators.RegisterAsync(payerId, _payerCredentials);
        }

        // The payer silo's metadata must have reached the hub before the first offer.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var initiator = new HandoffClient(Client, simulated.Id, simulated.InitiatorId, Keys);
        while ((await initiator.ListPayerDevicesAsync()).Count(d => d.Online) < simulated.PayerIds.Count)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"the payers of household '{simulated.Id}' did not show online within 30 s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task<HubStorage> StorageAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        switch (settings.Storage)
        {
            case HubStorageKind.Sqlite:
                var data = settings.DataDirectory;
                if (data is null)
                {
                    _temporaryData = Directory.CreateTempSubdirectory("handoff-load-").FullName;
                    data = _temporaryData;
                }

                return HubStorage.Sqlite(data);
            case HubStorageKind.Postgres:
                var database = settings.Postgres ?? throw new ValidationException("postgres", "--storage postgres needs --postgres CONNECTION or HANDOFF_POSTGRES");
                await PostgresSchema.EnsureAsync(database, cancellationToken);
                return HubStorage.Postgres(database);
            default:
                return HubStorage.Memory;
        }
    }

    private IHost SiloHost(LoadSettings settings, string process, bool hub, Action<ISiloBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        Quiet(builder.Logging);
        if (settings.Target is null)
        {
            // The hub of this process: its admin token is the run's own. A running household's stays its own.
            builder.Services.Configure<HandoffOptions>(options => options.AdminToken = OwnAdminToken);
        }

        builder.Configuration[$"{Handoff.Telemetry.HandoffTracingOptions.Section}:{nameof(Handoff.Telemetry.HandoffTracingOptions.SampleRatio)}"] =
            settings.SampleRatio.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.UseOrleans(silo =>
        {
            configure(silo);

            // Traced as the household's own silos are: spans sampled, batched and sent to the hub's collector.
            silo.AddHandoffSiloTelemetry(process, hub);
            silo.Services.AddSingleton(Probe);
            silo.AddIncomingGrainCallFilter(Probe);
            if (settings.DirectoryCacheSize is { } cacheSize)
            {
                silo.Configure<GrainDirectoryOptions>(directory => directory.CacheSize = cacheSize);
            }

            if (settings.ReminderRefresh is { } refresh)
            {
                // Orleans only stops an unregistered reminder's local timer and drops its entry at this re-read.
                silo.Configure<ReminderOptions>(reminders => reminders.RefreshReminderListPeriod = refresh);
            }

            silo.Configure<GrainCollectionOptions>(collection =>
            {
                collection.CollectionAge = settings.CollectionAge;
                collection.CollectionQuantum = TimeSpan.FromSeconds(Math.Clamp(settings.CollectionAge.TotalSeconds / 4, 1, 60));
            });
        });
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }

    private static void Quiet(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(console => console.SingleLine = true);
        logging.SetMinimumLevel(LogLevel.Error);

        // A push that arrives after its watcher has let go is expected at this rate, and harmless.
        logging.AddFilter("Orleans.ClientGrainContext", LogLevel.None);
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(
            console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static async Task StartAsync(IHost host, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
    }

    private static int FreePort() => FreePort(IPAddress.Loopback);

    private static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        // Client first, then the payer silo, then the hub: each leaves while the one it talks to is still up.
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                await _hosts[i].StopAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception exception) when (exception is OperationCanceledException or OrleansException or TimeoutException)
            {
                // A silo that cannot leave gracefully within the bound is simply dropped with the process.
            }

            _hosts[i].Dispose();
        }

        _hosts.Clear();
        Authenticators.Dispose();
        if (_temporaryData is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_temporaryData, recursive: true);
        }
    }
}

/// <summary>Counts, inside the silos, the household's grain calls and what simulated persons saw.</summary>
internal sealed class LoadProbe : IIncomingGrainCallFilter
{
    private long _handoffCalls;

    private readonly ConcurrentDictionary<string, long> _shown = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _approving = new(StringComparer.Ordinal);

    /// <summary>Calls to the household's own grains (not Orleans' system grains), on every silo.</summary>
    public long HandoffCalls => Interlocked.Read(ref _handoffCalls);

    /// <summary>Approvals on a payer device that did not end Approved, by outcome or error.</summary>
    public ConcurrentDictionary<string, long> ApprovalProblems { get; } = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        // The interface name is a constant of the generated invoker; InterfaceMethod would cost a reflection lookup per call.
        if (context.InterfaceName.StartsWith("handoff", StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref _handoffCalls);
        }

        return context.Invoke();
    }

    public void ApprovalProblem(string reason) => ApprovalProblems.AddOrUpdate(reason, 1, (_, count) => count + 1);

    /// <summary>The simulated person saw the payment on the sheet (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Shown(string paymentId) => _shown.TryAdd(paymentId, Stopwatch.GetTimestamp());

    /// <summary>The simulated person pressed approve (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Approving(string paymentId) => _approving[paymentId] = Stopwatch.GetTimestamp();

    /// <summary>When the payment was first shown and last approved, forgotten as they are read: a run keeps none.</summary>
    public (long? Shown, long? Approving) TakeMoments(string paymentId) =>
        (_shown.TryRemove(paymentId, out var shown) ? shown : null, _approving.TryRemove(paymentId, out var approving) ? approving : null);
}

/// <summary>
/// The person in front of each simulated payer device: approves every offer the moment it is shown,
/// by PIN or by biometric (the device's software platform authenticator) according to the run's mix.
/// </summary>
internal sealed class SimulatedPerson(
    PaymentSheetBoard board,
    IServiceProvider services,
    SimulatedPerson.Mix mix,
    SoftwareAuthenticators authenticators,
    LoadProbe probe) : IPaymentSheet
{
    // Resolved on first use: the verification depends on the board, and the board's sheet is this very person.
    private PayerVerification Verification => services.GetRequiredService<PayerVerification>();

    public bool Shows(string paymentId) => board.Shows(paymentId);

    public async ValueTask ShowAsync(PaymentOffer offer)
    {
        await board.ShowAsync(offer);
        probe.Shown(offer.PaymentId);

        // The sheet is shown inside the payment program's turn: the person acts after it, on the device, as people do.
        _ = Task.Run(() => ApproveAsync(offer));
    }

    public void WrongPin(string paymentId, int triesLeft) => board.WrongPin(paymentId, triesLeft);

    public void Close(string paymentId, PaymentState state, string? reason = null) => board.Close(paymentId, state, reason);

    public void Refunded(PaymentSnapshot payment) => board.Refunded(payment);

    private async Task ApproveAsync(PaymentOffer offer)
    {
        try
        {
            probe.Approving(offer.PaymentId);
            var result = Random.Shared.NextDouble() < mix.PinShare
                ? await Verification.ApproveWithPinAsync(offer.PaymentId, LoadHousehold.Pin)
                : await ApproveWithAuthenticatorAsync(offer);
            if (result.Outcome != VerificationOutcome.Approved)
            {
                probe.ApprovalProblem("approve_" + result.Outcome.ToString().ToLowerInvariant());
            }
        }
        catch (Exception exception)
        {
            probe.ApprovalProblem("approve_" + LoadRunner.Reason(exception));
        }
    }

    // The assertion is over the transaction's challenge, as a payer page asks for it; the hub verifies it.
    private Task<VerificationResult> ApproveWithAuthenticatorAsync(PaymentOffer offer)
    {
        var authenticator = authenticators.Of(offer.PayerDeviceId);
        return authenticator.PromptAsync(() =>
            Verification.ApproveWithWebAuthnAsync(offer.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(offer))));
    }

    /// <summary>The share of approvals made by PIN.</summary>
    public sealed record Mix(double PinShare);
}
