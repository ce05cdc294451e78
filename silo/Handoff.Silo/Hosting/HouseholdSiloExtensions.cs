using Handoff.Contracts;
using Handoff.Contracts.Security;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Handoff.Grains;
using Handoff.Grains.Hosting;
using Handoff.Grains.Ledger;
using Handoff.Grains.Payer;
using Handoff.Grains.Placement;
using Handoff.Grains.Reminders;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization.Serializers;

namespace Handoff.Silo.Hosting;

/// <summary>Turns an Orleans silo into a household hub or a payer device's silo.</summary>
public static class HouseholdSiloExtensions
{
    /// <summary>The hub role: durable grains and their store, tagged <c>handoff-role=hub</c>.</summary>
    public static ISiloBuilder AddHandoffHub(this ISiloBuilder silo, HubStorage storage)
    {
        silo.UseSiloMetadata(new Dictionary<string, string> { [SiloTags.Role] = SiloTags.HubRole });
        switch (storage.Kind)
        {
            case HubStorageKind.Sqlite:
                var connectionString = SqliteStore.Ensure(storage.DataDirectory ?? HubStorage.DefaultDataDirectory);

                // One writer for the file: grain state, reminder rows and ledger appends share its commits.
                silo.Services.AddSingleton(services => new SqliteWriter(connectionString, services.GetService<ILogger<SqliteWriter>>()));
                silo.Services.AddGrainStorage(HandoffOptions.StorageName, (services, name) => new SqliteGrainStorage(
                    name,
                    connectionString,
                    ServiceId(services),
                    services.GetRequiredService<SqliteWriter>(),
                    new JsonGrainStateSerializer(),
                    services.GetRequiredService<IActivatorProvider>()));
                silo.AddReminders();
                silo.Services.Configure<SqliteReminderOptions>(options => options.ConnectionString = connectionString);
                silo.Services.AddSingleton<IReminderTable>(services => new SqliteReminderTable(
                    services.GetRequiredService<IOptions<SqliteReminderOptions>>(),
                    services.GetRequiredService<IOptions<ClusterOptions>>(),
                    services.GetRequiredService<SqliteWriter>()));
                silo.Services.AddSingleton<ILedgerJournal>(services => new SqliteLedgerJournal(connectionString, ServiceId(services), services.GetRequiredService<SqliteWriter>()));
                break;
            case HubStorageKind.Postgres:
                // Clustering comes from UseHouseholdNetwork (the network names the same database).
                silo.AddHandoffPostgresStorage(storage.ConnectionString!);
                silo.Services.PostConfigure<AdoNetGrainStorageOptions>(
                    HandoffOptions.StorageName,
                    options => options.GrainStorageSerializer = new JsonGrainStateSerializer());
                var database = PostgresHostingExtensions.ForProviders(storage.ConnectionString!);
                silo.Services.AddSingleton<ILedgerJournal>(services => new PostgresLedgerJournal(database, ServiceId(services)));
                break;
            default:
                silo.Services.AddGrainStorage(HandoffOptions.StorageName, (services, _) => ActivatorUtilities.CreateInstance<HubMemoryStorage>(services));
                silo.AddReminders();
                silo.Services.AddSingleton<IReminderTable, MemoryReminderTable>();
                silo.Services.AddSingleton<ILedgerJournal, MemoryLedgerJournal>();
                break;
        }

        silo.Services.AddHandoffHubGrains();
        return silo;
    }

    /// <summary>The payer role: the payment programs of <paramref name="devices"/>, tagged with their ids.</summary>
    /// <param name="attemptsFolder">Where the devices' wrong-PIN counts and locks are kept across restarts (null: in memory only).</param>
    public static ISiloBuilder AddHandoffPayer(this ISiloBuilder silo, IReadOnlyCollection<PayerDevice> devices, string? attemptsFolder = null)
    {
        if (devices.Count == 0)
        {
            throw new ArgumentException("a payer silo must carry at least one device", nameof(devices));
        }

        silo.UseSiloMetadata(new Dictionary<string, string>
        {
            [SiloTags.Role] = SiloTags.PayerRole,
            [SiloTags.Devices] = SiloTags.JoinDevices(devices.Select(device => device.Id)),
        });
        silo.Services.AddSingleton(devices);
        silo.Services.AddSingleton(_ =>
        {
            var vault = new PinVault(attemptsFolder);
            foreach (var device in devices)
            {
                vault.SetPin(device.Id, device.Pin);
            }

            return vault;
        });
        silo.Services.AddSingleton(_ =>
        {
            var keys = new KeyRingSigner();
            foreach (var device in devices)
            {
                keys.Add(device.Id, device.Key);
            }

            return keys;
        });
        silo.Services.AddHandoffPayerGrains();
        return silo;
    }

    /// <summary>
    /// Household networking with development clustering: the hub is the primary silo that every other
    /// silo of the household joins through.
    /// </summary>
    public static ISiloBuilder UseHouseholdNetwork(this ISiloBuilder silo, HouseholdNetwork network)
    {
        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = network.ClusterId;
            cluster.ServiceId = Households.ServiceId;
        });
        silo.ConfigureEndpoints(network.Address, network.SiloPort, network.GatewayPort, listenOnAnyHostAddress: false);
        if (network.Certificate is { } household)
        {
            // Mutual TLS on every silo-to-silo and client-to-gateway connection: only the household's certificate passes.
            silo.UseTls(household, tls =>
            {
                tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
                tls.RemoteCertificateValidation = (presented, _, _) => HouseholdCertificate.IsHousehold(household, presented);
                tls.OnAuthenticateAsClient = (_, client) => client.TargetHost = "handoff-household";
            });
        }

        if (network.Postgres is { } database)
        {
            // Cluster mode: membership in PostgreSQL, any number of hubs and payer silos.
            silo.UseHandoffPostgresClustering(database);
            return silo;
        }

        silo.UseDevelopmentClustering(network.HubSiloEndpoint ?? new IPEndPoint(network.Address, network.SiloPort));
        if (network.HubSiloEndpoint is not null)
        {
            // The development membership table lives in the hub: read it often, so a device notices a
            // restarted hub within seconds (and rejoins) instead of after a minute of failed probes.
            silo.Configure<ClusterMembershipOptions>(membership => membership.TableRefreshTimeout = TimeSpan.FromSeconds(2));
        }

        return silo;
    }

    // The ledger journal is keyed by the cluster's service id, like the rest of the hub's state.
    private static string ServiceId(IServiceProvider services) => services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
}

/// <summary>Where one silo listens and how it finds the rest of the household.</summary>
/// <param name="HubSiloEndpoint">Embedded mode: the hub's silo endpoint; null for the hub itself.</param>
/// <param name="Postgres">Cluster mode: the PostgreSQL database whose membership table every silo uses.</param>
/// <param name="Certificate">The household's certificate: when set, every connection is mutual TLS with it.</param>
public sealed record HouseholdNetwork(
    IPAddress Address,
    int SiloPort,
    int GatewayPort,
    IPEndPoint? HubSiloEndpoint,
    string ClusterId,
    string? Postgres = null,
    X509Certificate2? Certificate = null);
