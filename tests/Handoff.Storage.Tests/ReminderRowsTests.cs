using Handoff.Grains.Reminders;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Handoff.Storage.Tests;

/// <summary>
/// Removing the recovery rows of ended payments many at a time, against each real store: a row goes only at the
/// version it was written with, and only within its own service.
/// </summary>
public abstract class ReminderRowBatchContract : IAsyncLifetime
{
    protected const string Service = "handoff";
    protected const string OtherService = "other-household";

    protected static readonly GrainId Ended = GrainId.Create("payment", "ended");
    protected static readonly GrainId Rewritten = GrainId.Create("payment", "rewritten");
    protected static readonly GrainId EndedTwice = GrainId.Create("payment", "ended-twice");

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>Writes a recovery row of <paramref name="grain"/> in <paramref name="service"/>; returns its etag.</summary>
    protected abstract Task<string> WriteRowAsync(string service, GrainId grain);

    protected abstract Task<IReadOnlyList<string>> ReadRowsAsync(string service);

    protected abstract IReminderRowBatchRemover NewRemover();

    [Fact]
    public async Task Rows_go_at_their_version_and_only_in_their_service()
    {
        var ended = await WriteRowAsync(Service, Ended);
        var staleVersion = await WriteRowAsync(Service, Rewritten);
        await WriteRowAsync(Service, Rewritten);
        await WriteRowAsync(Service, EndedTwice);
        var endedTwice = await WriteRowAsync(Service, EndedTwice);
        var neighbours = await WriteRowAsync(OtherService, Ended);
        Assert.Equal(ended, neighbours);

        var removed = await NewRemover().RemoveRowsAsync(
            [new(Ended, "recovery", ended), new(Rewritten, "recovery", staleVersion), new(EndedTwice, "recovery", endedTwice)],
            CancellationToken.None);

        Assert.Equal(2, removed);
        Assert.Equal([Rewritten.ToString()], await ReadRowsAsync(Service));
        Assert.Equal([Ended.ToString()], await ReadRowsAsync(OtherService));
    }

    [Fact]
    public async Task Many_rows_go_in_one_call_and_an_empty_batch_changes_nothing()
    {
        var rows = new List<ReminderRowKey>();
        for (var i = 0; i < EndedReminderRows.MaxBatch; i++)
        {
            var grain = GrainId.Create("payment", $"p{i}");
            rows.Add(new(grain, "recovery", await WriteRowAsync(Service, grain)));
        }

        Assert.Equal(0, await NewRemover().RemoveRowsAsync([], CancellationToken.None));
        Assert.Equal(EndedReminderRows.MaxBatch, (await ReadRowsAsync(Service)).Count);
        Assert.Equal(EndedReminderRows.MaxBatch, await NewRemover().RemoveRowsAsync(rows, CancellationToken.None));
        Assert.Empty(await ReadRowsAsync(Service));
    }
}

public sealed class SqliteReminderRowsTests : ReminderRowBatchContract
{
    private string _directory = null!;
    private string _connectionString = null!;

    public override Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("handoff-reminders-").FullName;
        _connectionString = SqliteStore.Ensure(_directory);
        return Task.CompletedTask;
    }

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    protected override IReminderRowBatchRemover NewRemover() => Table(Service);

    protected override async Task<string> WriteRowAsync(string service, GrainId grain) =>
        (await Table(service).UpsertRow(new ReminderEntry
        {
            GrainId = grain,
            ReminderName = "recovery",
            StartAt = DateTime.UtcNow.AddMinutes(1),
            Period = TimeSpan.FromMinutes(1),
        }))!;

    protected override async Task<IReadOnlyList<string>> ReadRowsAsync(string service) =>
        [.. (await Table(service).ReadRows(0, 0)).Reminders.Select(row => row.GrainId.ToString()).Order(StringComparer.Ordinal)];

    private SqliteReminderTable Table(string service) => new(
        Options.Create(new SqliteReminderOptions { ConnectionString = _connectionString }),
        Options.Create(new ClusterOptions { ServiceId = service }));
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresReminderRowsTests(PostgresServer server) : ReminderRowBatchContract
{
    private string _connectionString = null!;

    public override async Task InitializeAsync()
    {
        _connectionString = await server.CreateUniqueDatabaseAsync("reminders");
        await PostgresSchema.EnsureAsync(_connectionString, CancellationToken.None);
    }

    public override Task DisposeAsync() => Task.CompletedTask;

    protected override IReminderRowBatchRemover NewRemover() => new PostgresReminderRows(_connectionString, Service);

    // The same statement Orleans' reminder provider runs to upsert a row (migration 3's UpsertReminderRowKey).
    protected override async Task<string> WriteRowAsync(string service, GrainId grain)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT querytext FROM orleansquery WHERE querykey = 'UpsertReminderRowKey'", connection);
        var upsert = (string)(await query.ExecuteScalarAsync())!;
        await using var command = new NpgsqlCommand(upsert, connection);
        command.Parameters.AddWithValue("ServiceId", service);
        command.Parameters.AddWithValue("GrainId", grain.ToString());
        command.Parameters.AddWithValue("ReminderName", "recovery");
        command.Parameters.AddWithValue("GrainHash", unchecked((int)grain.GetUniformHashCode()));
        command.Parameters.AddWithValue("StartTime", DateTime.UtcNow.AddMinutes(1));
        command.Parameters.AddWithValue("Period", 60_000L);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    protected override async Task<IReadOnlyList<string>> ReadRowsAsync(string service) =>
        await SchemaTests.ReadAsync(
            _connectionString,
            $"SELECT grain_id FROM orleans_reminder WHERE service_id = '{service}' ORDER BY grain_id COLLATE \"C\"",
            reader => reader.GetString(0));
}
