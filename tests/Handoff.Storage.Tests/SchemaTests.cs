using Handoff.Storage.Postgres;
using Npgsql;

namespace Handoff.Storage.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SchemaTests(PostgresServer server)
{
    // Every key the 10.4.2 clustering, persistence and reminder providers read from orleansquery.
    private static readonly string[] s_queryKeys =
    [
        "CleanupDefunctSiloEntriesKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey", "InsertMembershipKey",
        "InsertMembershipVersionKey", "MembershipReadAllKey", "MembershipReadRowKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey",
        "ClearStorageKey", "DeleteStorageKey", "ReadFromStorageKey", "WriteToStorageKey",
        "DeleteReminderRowKey", "DeleteReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "ReadReminderRowKey",
        "ReadReminderRowsKey", "UpsertReminderRowKey",
    ];

    [Fact]
    public async Task Ensure_twice_is_idempotent_and_gives_the_same_version()
    {
        var connectionString = await server.CreateUniqueDatabaseAsync("schema_twice");

        var first = await PostgresSchema.EnsureAsync(connectionString, CancellationToken.None);
        var second = await PostgresSchema.EnsureAsync(connectionString, CancellationToken.None);

        Assert.Equal(PostgresSchema.LatestVersion, first);
        Assert.Equal(first, second);
        Assert.Equal(
            PostgresSchema.Migrations.Select(m => (m.Version, m.Name)).ToList(),
            await ReadAsync(connectionString, "SELECT version, name FROM handoff_schema_version ORDER BY version", r => (r.GetInt32(0), r.GetString(1))));
    }

    [Fact]
    public void The_migrations_are_numbered_from_one_in_order()
    {
        Assert.Equal(
            ["0001_orleans_clustering.sql", "0002_orleans_persistence.sql", "0003_orleans_reminders.sql", "0004_ledger.sql", "0005_ledger_evidence.sql"],
            PostgresSchema.Migrations.Select(m => m.Name).ToArray());
        Assert.Equal(5, PostgresSchema.LatestVersion);
    }

    [Fact]
    public async Task Concurrent_ensures_apply_each_migration_once()
    {
        var connectionString = await server.CreateUniqueDatabaseAsync("schema_concurrent");

        var versions = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresSchema.EnsureAsync(connectionString, CancellationToken.None))));

        Assert.All(versions, v => Assert.Equal(PostgresSchema.LatestVersion, v));
        Assert.Equal(
            [PostgresSchema.Migrations.Count],
            await ReadAsync(connectionString, "SELECT count(*)::int FROM handoff_schema_version", r => r.GetInt32(0)));
    }

    [Fact]
    public async Task Every_query_key_of_the_providers_is_defined()
    {
        var connectionString = await server.CreateUniqueDatabaseAsync("schema_keys");
        await PostgresSchema.EnsureAsync(connectionString, CancellationToken.None);

        var keys = await ReadAsync(connectionString, "SELECT QueryKey, QueryText FROM OrleansQuery ORDER BY 1", r => r.GetString(0));

        Assert.Equal(s_queryKeys.Order(StringComparer.Ordinal).ToList(), keys.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task An_edited_applied_migration_is_refused_by_name()
    {
        var connectionString = await server.CreateUniqueDatabaseAsync("schema_edited");
        await PostgresSchema.EnsureAsync(connectionString, CancellationToken.None);
        await ReadAsync(connectionString, "UPDATE handoff_schema_version SET checksum = 'edited' WHERE version = 2 RETURNING version", r => r.GetInt32(0));

        var error = await Assert.ThrowsAsync<PostgresSchemaException>(() => PostgresSchema.EnsureAsync(connectionString, CancellationToken.None));

        Assert.Contains("0002_orleans_persistence.sql", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_migration_names_itself_and_leaves_nothing_behind()
    {
        var connectionString = await server.CreateUniqueDatabaseAsync("schema_failing");
        // A table the first migration wants to create already exists, so that migration fails.
        await ReadAsync(connectionString, "CREATE TABLE orleans_membership (x int); SELECT 1", r => r.GetInt32(0));

        var error = await Assert.ThrowsAsync<PostgresSchemaException>(() => PostgresSchema.EnsureAsync(connectionString, CancellationToken.None));

        Assert.Contains("0001_orleans_clustering.sql", error.Message, StringComparison.Ordinal);
        Assert.Equal(
            [0],
            await ReadAsync(connectionString, "SELECT count(*)::int FROM handoff_schema_version", r => r.GetInt32(0)));
        Assert.Equal(
            [false],
            await ReadAsync(connectionString, "SELECT to_regclass('orleansquery') IS NOT NULL", r => r.GetBoolean(0)));
    }

    [Fact]
    public async Task An_unreachable_server_is_named_in_the_error()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Port = 1, Timeout = 2 }.ConnectionString;

        var error = await Assert.ThrowsAsync<PostgresSchemaException>(() => PostgresSchema.EnsureAsync(connectionString, CancellationToken.None));

        Assert.Contains("127.0.0.1:1/postgres", error.Message, StringComparison.Ordinal);
    }

    internal static async Task<List<T>> ReadAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        do
        {
            while (await reader.ReadAsync())
            {
                rows.Add(read(reader));
            }
        }
        while (await reader.NextResultAsync());

        return rows;
    }
}
