using System.Diagnostics;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Microsoft.Extensions.DependencyInjection;
using Handoff.Sdk;
using Handoff.Silo.Hosting;
using Handoff.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orleans.TestingHost;

namespace Handoff.Telemetry.Tests;

/// <summary>
/// An in-process household with trace propagation on every silo and the client: Silo_0 is the hub, Silo_1
/// carries phone-1. One tracer provider for the whole test process records every finished span in memory.
/// </summary>
public sealed class TracedHousehold : IAsyncLifetime
{
    public const string Home = "home";
    public const string Tv = "tv-1";
    public const string PhonePin = "1234";
    public const string AdminToken = "telemetry-admin";
    public static readonly PayerDevice Phone = PayerDevice.Create("phone-1", "Alice's phone", DeviceKind.Phone, PhonePin);

    private readonly KeyRingSigner _keys = new();

    private TracerProvider? _tracing;

    private readonly LockedCollection<Activity> _spans = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public InProcessSiloHandle Hub => Cluster.Silos.Single(silo => silo.Name == "Silo_0");

    public InProcessSiloHandle PayerSilo => Cluster.Silos.Single(silo => silo.Name == "Silo_1");

    public HandoffClient Client(string deviceId) => new(Cluster.Client, Home, deviceId, _keys);

    public async Task InitializeAsync()
    {
        _tracing = OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .AddSource([.. HandoffTelemetryExtensions.ActivitySources])
            .SetSampler(new HandoffSampler(1.0))
            .AddInMemoryExporter(_spans)
            .Build();
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.AssumeHomogenousSilosForTesting = false;
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddActivityPropagation();
            silo.Services.Configure<Handoff.Grains.HandoffOptions>(handoff => handoff.AdminToken = AdminToken);
            if (options.SiloName == "Silo_1")
            {
                silo.AddHandoffPayer([Phone]);
            }
            else
            {
                silo.AddHandoffHub(HubStorage.Memory);
            }
        });
        builder.ConfigureClient(client => client.AddActivityPropagation().RefreshOften());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await ClientGrainTypes.WaitForAsync<IHouseholdGrain>(Cluster.Client);

        var tvKey = Signing.NewKey();
        _keys.Add(Tv, tvKey);
        _keys.Add(Phone.Id, Phone.Key);
        var code = await Client("admin").CreatePairingCodeAsync(AdminToken);
        await Client(Tv).PairAsync(code.Code, "Living room TV", DeviceKind.Tv, DeviceRole.Initiator, Signing.PublicKeyOf(tvKey));
        code = await Client("admin").CreatePairingCodeAsync(AdminToken);
        await Client(Phone.Id).PairAsync(code.Code, Phone.DisplayName, Phone.Kind, DeviceRole.Payer, Phone.PublicKey);
        await BoundedWait.UntilAsync(
            async () => (await Client(Tv).ListPayerDevicesAsync()).Any(device => device.DeviceId == Phone.Id && device.Online),
            $"{Phone.Id} to show online (silo metadata reaching the hub)",
            TimeSpan.FromSeconds(15));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _tracing?.Dispose();
    }

    /// <summary>The finished spans so far; the exporter appends from other threads.</summary>
    public IReadOnlyList<Activity> Snapshot() => _spans.Snapshot();

    /// <summary>The in-memory exporter adds from whichever thread ends a span: a list behind a lock.</summary>
    private sealed class LockedCollection<T> : System.Collections.ObjectModel.Collection<T>
    {
        private readonly Lock _lock = new();

        public IReadOnlyList<T> Snapshot()
        {
            lock (_lock)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, T item)
        {
            lock (_lock)
            {
                base.InsertItem(index, item);
            }
        }

        protected override void ClearItems()
        {
            lock (_lock)
            {
                base.ClearItems();
            }
        }
    }
}
