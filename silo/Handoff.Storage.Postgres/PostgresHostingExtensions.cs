using Handoff.Grains;
using Handoff.Grains.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;

namespace Handoff.Storage.Postgres;

/// <summary>
/// Cluster mode: Orleans clustering and reminders on PostgreSQL through the ADO.NET providers, grain state through
/// <see cref="PostgresGrainStorage"/> (same table and rows as the ADO.NET provider's, writes grouped into shared commits).
/// </summary>
public static class PostgresHostingExtensions
{
    /// <summary>The ADO.NET invariant name of Npgsql, which Orleans uses to load the provider.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Uses the PostgreSQL database for membership, for the grain storage named
    /// <see cref="HandoffOptions.StorageName"/> and for reminders. The database must already carry
    /// the schema (<see cref="PostgresSchema.EnsureAsync"/>).
    /// </summary>
    public static ISiloBuilder UseHandoffPostgres(this ISiloBuilder silo, string connectionString) =>
        silo.UseHandoffPostgresClustering(connectionString).AddHandoffPostgresStorage(connectionString);

    /// <summary>Membership only: what a payer silo of a PostgreSQL cluster needs (its durable grains live on hubs).</summary>
    public static ISiloBuilder UseHandoffPostgresClustering(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return silo.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = ForProviders(connectionString);
        });
    }

    /// <summary>
    /// The grain storage named <see cref="HandoffOptions.StorageName"/> and reminders: what a hub adds to clustering.
    /// Grain writes go through <see cref="PostgresWriter.Shared"/> for the connection string as
    /// <see cref="ForProviders"/> makes it, which a <see cref="PostgresLedgerJournal"/> made with that string uses too.
    /// </summary>
    public static ISiloBuilder AddHandoffPostgresStorage(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        // Grain state through the process's writer for the database (shared with the ledger journal), so the writes
        // of many grains go in one commit. The serializer is left to the host: it configures it, as it did for the
        // ADO.NET provider this replaces, through the AdoNetGrainStorageOptions of the storage's name.
        var database = ForProviders(connectionString);
        silo.Services.AddOptions<AdoNetGrainStorageOptions>(HandoffOptions.StorageName);
        silo.Services.AddGrainStorage(HandoffOptions.StorageName, (services, name) => PostgresGrainStorage.Create(services, name, database));

        silo.UseAdoNetReminderService(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = ForProviders(connectionString);
        });

        // The recovery rows of ended payments go many per statement (see EndedReminderRows).
        silo.Services.AddSingleton<IReminderRowBatches>(services =>
            new PostgresReminderRows(ForProviders(connectionString), services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));

        return silo;
    }

    /// <summary>Connections a silo's pool opens at most unless the connection string says otherwise (Npgsql's default: 100).</summary>
    public const int DefaultMaxPoolSize = 30;

    /// <summary>
    /// The connection string as the hub's database code uses it: Orleans' providers and the reads of the grain storage
    /// and the ledger journal open a pooled connection per operation (their writes share the one connection of the
    /// <see cref="PostgresWriter"/>), keep no session state and run the same few statements over and over.
    /// So Npgsql's reset on every return to the pool (a <c>DISCARD ALL</c> round trip, as many as all other
    /// statements together) is turned off, and the statements are prepared once per connection instead of being
    /// parsed and planned on every call. The pool is capped at <see cref="DefaultMaxPoolSize"/>: with hundreds of
    /// handoffs in flight, a pool of 100 keeps as many backends busy and the server switches between them (on 2
    /// cores: 952 handoffs/s against 1,146 with 30). Both are left as they are when the connection string sets them.
    /// </summary>
    public static string ForProviders(string connectionString)
    {
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
        if (settings.MaxAutoPrepare == 0)
        {
            settings.MaxAutoPrepare = 32;
        }

        if (!SetsPoolSize(connectionString))
        {
            settings.MaxPoolSize = DefaultMaxPoolSize;
        }

        return settings.ConnectionString;
    }

    /// <summary>Whether the operator's connection string names the pool's size (under any of Npgsql's spellings).</summary>
    private static bool SetsPoolSize(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>()
            .Select(key => key.Replace(" ", string.Empty, StringComparison.Ordinal))
            .Any(key => key.Equals("MaximumPoolSize", StringComparison.OrdinalIgnoreCase) || key.Equals("MaxPoolSize", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Finds the cluster's gateways in the PostgreSQL membership table.</summary>
    public static IClientBuilder UseHandoffPostgresClustering(this IClientBuilder client, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        return client.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = ForProviders(connectionString);
        });
    }
}
