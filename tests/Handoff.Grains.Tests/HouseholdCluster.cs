using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;
using Handoff.Sdk;
using Handoff.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.Reminders;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Handoff.Grains.Tests;

/// <summary>
/// An in-process household: Silo_0 is the hub, Silo_1 carries phone-1, Silo_2 carries phone-2 and
/// the other household's phone-x. Grain time is a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class HouseholdCluster : IAsyncLifetime
{
    public const string Home = "home";
    public const string Other = "other";
    public const string Tv = "tv-1";
    public const string OtherTv = "tv-x";
    public const string OfflineWatch = "watch-9";

    public const string AdminToken = "test-admin-token";

    public static readonly PayerDevice Phone1 = PayerDevice.Create("phone-1", "Alice's phone", DeviceKind.Phone, "1234");
    public static readonly PayerDevice Phone2 = PayerDevice.Create("phone-2", "Bob's phone", DeviceKind.Phone, "2468");
    public static readonly PayerDevice PhoneX = PayerDevice.Create("phone-x", "Neighbour's phone", DeviceKind.Phone, "1111");

    private static readonly Dictionary<string, string> Pins = new() { ["phone-1"] = "1234", ["phone-2"] = "2468", ["phone-x"] = "1111" };

    private readonly Dictionary<string, PayerDevice[]> _payersBySilo;
    private readonly Action<string, ISiloBuilder>? _configureSilo;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "handoff-tests-" + Guid.NewGuid().ToString("n"));

    public HouseholdCluster()
        : this(new() { ["Silo_1"] = [Phone1], ["Silo_2"] = [Phone2, PhoneX] })
    {
    }

    /// <param name="configureSilo">More configuration of a silo, by its name (a fault a test puts on one device's silo).</param>
    internal HouseholdCluster(Dictionary<string, PayerDevice[]> payersBySilo, Action<string, ISiloBuilder>? configureSilo = null)
    {
        _payersBySilo = payersBySilo;
        _configureSilo = configureSilo;
    }

    /// <summary>Every payment observer the SDK's watches handed to the cluster, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<IPaymentObserver> Observers { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    /// <summary>The private keys of every device, as each device's own SDK would hold its own.</summary>
    public KeyRingSigner Keys { get; } = new();

    public static string PinOf(PayerDevice device) => Pins[device.Id];

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)(_payersBySilo.Count + 1));
        builder.Options.AssumeHomogenousSilosForTesting = false;
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureHost(host =>
        {
            UseFakeGrainTime(host.Services, Time);
            host.Services.Configure<HandoffOptions>(options => options.AdminToken = AdminToken);
        });
        builder.ConfigureSilo((options, silo) =>
        {
            if (_payersBySilo.TryGetValue(options.SiloName, out var devices))
            {
                silo.AddHandoffPayer(devices);
            }
            else
            {
                silo.AddHandoffHub(HubStorage.Sqlite(_dataDirectory));
            }

            _configureSilo?.Invoke(options.SiloName, silo);
        });
        builder.ConfigureClient(client => client.RefreshOften().AddOutgoingGrainCallFilter(context =>
        {
            // What an attacker who learned a watcher's observer could aim at: kept for the forged-push test.
            if (context.Request.GetArgumentCount() == 1 && context.Request.GetArgument(0) is IPaymentObserver observer)
            {
                Observers.Enqueue(observer);
            }

            return context.Invoke();
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await ClientGrainTypes.WaitForAsync<IHouseholdGrain>(Cluster.Client);

        await PairAsync(Home, Tv, "Living room TV", DeviceKind.Tv, DeviceRole.Initiator);
        await PairAsync(Other, OtherTv, "Neighbour's TV", DeviceKind.Tv, DeviceRole.Initiator);
        await PairAsync(Home, OfflineWatch, "Alice's watch", DeviceKind.Watch, DeviceRole.Payer);
        foreach (var payer in _payersBySilo.Values.SelectMany(devices => devices))
        {
            var household = payer == PhoneX ? Other : Home;
            Keys.Add(payer.Id, payer.Key);
            var code = await Client(household, "admin").CreatePairingCodeAsync(AdminToken);
            await Client(household, payer.Id).PairAsync(code.Code, payer.DisplayName, payer.Kind, DeviceRole.Payer, payer.PublicKey);
            await WaitUntilAsync(
                async () => (await Client(household, payer.Id).ListPayerDevicesAsync()).Any(d => d.DeviceId == payer.Id && d.Online),
                $"payer {payer.Id} to show online (silo metadata reaching the hub)");
        }
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>The SDK as the app on <paramref name="deviceId"/> would use it, with that device's key.</summary>
    public HandoffClient Client(string householdId, string deviceId) => new(Cluster.Client, householdId, deviceId, Keys);

    /// <summary>Pairs a device the way a new device joins: a code from the hub, then its own new key.</summary>
    public async Task PairAsync(string householdId, string deviceId, string name, DeviceKind kind, DeviceRole role)
    {
        var key = Signing.NewKey();
        Keys.Add(deviceId, key);
        var code = await Client(householdId, "admin").CreatePairingCodeAsync(AdminToken);
        await Client(householdId, deviceId).PairAsync(code.Code, name, kind, role, Signing.PublicKeyOf(key));
    }

    public HandoffClient Tv1 => Client(Home, Tv);

    public IPaymentAbilityGrain Ability(string deviceId) => Cluster.Client.GetGrain<IPaymentAbilityGrain>(deviceId);

    /// <summary>The person at <paramref name="deviceId"/>: its sheet's verification, inside that device's own silo.</summary>
    public PayerVerification Person(string deviceId) =>
        Cluster.GetSiloServiceProvider(SiloCarrying(deviceId).SiloAddress).GetRequiredService<PayerVerification>();

    /// <summary>What the sheet of <paramref name="deviceId"/> shows.</summary>
    public PaymentSheetBoard Sheet(string deviceId) =>
        Cluster.GetSiloServiceProvider(SiloCarrying(deviceId).SiloAddress).GetRequiredService<PaymentSheetBoard>();

    /// <summary>
    /// Subscribes to the sheet of <paramref name="deviceId"/> now (so nothing published after this call is missed) and
    /// completes with its first event of <paramref name="kind"/> for <paramref name="paymentId"/>, within 15 s.
    /// </summary>
    public Task<SheetEvent> NextSheetEventAsync(string deviceId, string kind, string paymentId)
    {
        var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var events = Sheet(deviceId).ListenAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        var first = events.MoveNextAsync();
        return ReadAsync();

        async Task<SheetEvent> ReadAsync()
        {
            try
            {
                for (var next = first; await next; next = events.MoveNextAsync())
                {
                    if (events.Current.Kind == kind && events.Current.PaymentId == paymentId)
                    {
                        return events.Current;
                    }
                }

                throw new InvalidOperationException($"the sheet of {deviceId} stopped before a '{kind}' event of {paymentId}");
            }
            finally
            {
                await events.DisposeAsync();
                stop.Dispose();
            }
        }
    }

    public InProcessSiloHandle SiloCarrying(string deviceId) =>
        Cluster.Silos.Single(silo => _payersBySilo.TryGetValue(silo.Name, out var devices) && devices.Any(d => d.Id == deviceId));

    public InProcessSiloHandle Hub => Cluster.Silos.Single(silo => silo.Name == "Silo_0");

    /// <summary>Grain calls made by the hub itself: they carry the hub's authority, as a payment's own calls do.</summary>
    public IGrainFactory Authority => Cluster.GetSiloServiceProvider(Hub.SiloAddress).GetRequiredService<IGrainFactory>();

    /// <summary>The silo where <paramref name="grain"/> is active, or null.</summary>
    public SiloAddress? WhereActive(IAddressable grain) =>
        Cluster.TryGetGrainContext(grain.GetGrainId(), out var context) ? context.Address.SiloAddress : null;

    /// <summary>A household's ledger through its grain: the summary, and the whole journal read page by page.</summary>
    public async Task<LedgerView> LedgerAsync(string householdId = Home, int pageSize = ILedgerGrain.MaxPageSize)
    {
        var ledger = Authority.GetGrain<ILedgerGrain>(householdId);
        var summary = await ledger.GetSummaryAsync();
        var entries = new List<LedgerEntry>();
        while (true)
        {
            var page = await ledger.GetEntriesAsync(entries.Count == 0 ? 0 : entries[^1].Sequence, pageSize);
            entries.AddRange(page);
            if (page.Count < pageSize)
            {
                return new LedgerView(summary, entries);
            }
        }
    }

    /// <summary>Deactivates the grain's activation (if any) and waits until it is gone, so its next call starts from the store.</summary>
    public async Task DeactivateAsync(IAddressable grain)
    {
        if (Cluster.TryGetGrainContext(grain.GetGrainId(), out var context))
        {
            context.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "test: start over from the store"));
        }

        await WaitUntilAsync(() => Task.FromResult(WhereActive(grain) is null), $"{grain.GetGrainId()} to deactivate");
    }

    /// <summary>Waits, with a bound, for a condition that the cluster reaches asynchronously.</summary>
    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        BoundedWait.UntilAsync(condition, what, timeout ?? TimeSpan.FromSeconds(15));

    private static void UseFakeGrainTime(IServiceCollection services, FakeTimeProvider time)
    {
        // Grains and grain timers run on fake time; Orleans' own maintenance loops and reminders stay on real time.
        services.AddSingleton<TimeProvider>(time);
        foreach (var area in new[]
        {
            TimeProviderNames.Messaging, TimeProviderNames.SystemTimers, TimeProviderNames.Membership,
            TimeProviderNames.ActivationManagement, TimeProviderNames.GrainDirectory, ReminderTimeProviderNames.Reminders,
        })
        {
            services.AddKeyedSingleton<TimeProvider>(area, TimeProvider.System);
        }
    }
}

/// <summary>A ledger as its grain shows it: summary and journal.</summary>
public sealed record LedgerView(LedgerSummary Summary, IReadOnlyList<LedgerEntry> Entries)
{
    public IReadOnlyDictionary<string, decimal> Balances => Summary.Balances;
}

[CollectionDefinition(Name)]
public sealed class HouseholdCollection : ICollectionFixture<HouseholdCluster>
{
    public const string Name = "household";
}
