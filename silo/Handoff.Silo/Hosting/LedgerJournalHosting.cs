using Handoff.Grains.Ledger;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Handoff.Silo.Hosting;

/// <summary>Where a hub's ledger grains keep their journal: the same place as the rest of the hub's state.</summary>
public static class LedgerJournalHosting
{
    /// <summary>
    /// Registers the <see cref="ILedgerJournal"/> of <paramref name="storage"/>: the SQLite file, the
    /// PostgreSQL database (both keyed by the cluster's service id), or the hub's memory.
    /// </summary>
    public static ISiloBuilder AddLedgerJournal(this ISiloBuilder silo, HubStorage storage)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(storage);
        switch (storage.Kind)
        {
            case HubStorageKind.Sqlite:
                // The schema, tables included, is applied by SqliteStore.Ensure when the grain storage is added.
                var sqlite = SqliteStore.ConnectionString(storage.DataDirectory ?? HubStorage.DefaultDataDirectory);
                silo.Services.AddSingleton<ILedgerJournal>(services => new SqliteLedgerJournal(sqlite, ServiceId(services)));
                break;
            case HubStorageKind.Postgres:
                var postgres = storage.ConnectionString ?? throw new ArgumentException("PostgreSQL storage needs a connection string", nameof(storage));
                silo.Services.AddSingleton<ILedgerJournal>(services => new PostgresLedgerJournal(PostgresHostingExtensions.ForProviders(postgres), ServiceId(services)));
                break;
            default:
                silo.Services.AddSingleton<ILedgerJournal, MemoryLedgerJournal>();
                break;
        }

        return silo;
    }

    private static string ServiceId(IServiceProvider services) => services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
}
