using Handoff.Grains.Reminders;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>When the rows' first tick is due: a fixed instant, the tables store it as given.</summary>
    protected static readonly DateTime Start = new(2026, 11, 28, 12, 0, 0, DateTimeKind.Utc);

    protected static readonly GrainId Ended = GrainId.Create("payment", "ended");
    protected static readonly GrainId Rewritten = GrainId.Create("payment", "rewritten");
    protected static readonly GrainId EndedTwice = GrainId.Create("payment", "ended-twice");

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>Writes a recovery row of <paramref name="grain"/> in <paramref name="service"/>; returns its etag.</summary>
    protected abstract Task<string> WriteRowAsync(string service, GrainId grain);

    protected abstract Task<IReadOnlyList<string>> ReadRowsAsync(string service);

    /// <summary>The stored row as Orleans' reminder service reads it: start, period, etag and ring hash.</summary>
    protected abstract Task<(DateTime Start, TimeSpan Period, string ETag, uint Hash)> ReadRowAsync(string service, GrainId grain);

    protected abstract IReminderRowBatches NewRemover();

    [Fact]
    public async Task A_batch_writes_each_row_as_its_own_upsert_would()
    {
        var earlier = await WriteRowAsync(Service, Rewritten);

        var etags = await NewRemover().UpsertRowsAsync(
            [Row(Ended, Start, TimeSpan.FromMinutes(1)), Row(Rewritten, Start.AddSeconds(30), TimeSpan.FromMinutes(2))],
            CancellationToken.None);

        Assert.Equal(["1", (int.Parse(earlier, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)], etags);
        Assert.Equal((Start, TimeSpan.FromMinutes(1), "1", Ended.GetUniformHashCode()), await ReadRowAsync(Service, Ended));
        Assert.Equal((Start.AddSeconds(30), TimeSpan.FromMinutes(2), etags[1], Rewritten.GetUniformHashCode()), await ReadRowAsync(Service, Rewritten));
        Assert.Empty(await ReadRowsAsync(OtherService));

        // The etags returned are the ones removal needs.
        Assert.Equal(2, await NewRemover().RemoveRowsAsync([new(Ended, "recovery", etags[0]), new(Rewritten, "recovery", etags[1])], CancellationToken.None));
        Assert.Empty(await ReadRowsAsync(Service));
    }

    [Fact]
    public async Task A_batch_naming_a_row_twice_is_refused_or_written_in_order()
    {
        try
        {
            var etags = await NewRemover().UpsertRowsAsync([Row(Ended, Start, TimeSpan.FromMinutes(1)), Row(Ended, Start.AddMinutes(5), TimeSpan.FromMinutes(1))], CancellationToken.None);
            Assert.Equal(["1", "2"], etags);
            Assert.Equal((Start.AddMinutes(5), TimeSpan.FromMinutes(1), "2", Ended.GetUniformHashCode()), await ReadRowAsync(Service, Ended));
        }
        catch (ArgumentException refused)
        {
            Assert.Contains(Ended.ToString(), refused.Message, StringComparison.Ordinal);
            Assert.Empty(await ReadRowsAsync(Service));
        }
    }

    protected static ReminderEntry Row(GrainId grain, DateTime start, TimeSpan period) =>
        new() { GrainId = grain, ReminderName = "recovery", StartAt = start, Period = period };

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
    private SqliteFolder _folder = null!;

    private string _connectionString = null!;

    public override Task InitializeAsync()
    {
        _folder = new SqliteFolder("handoff-reminders-");
        _connectionString = _folder.ConnectionString;
        return Task.CompletedTask;
    }

    public override Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    protected override IReminderRowBatches NewRemover() => Table(Service);

    protected override async Task<string> WriteRowAsync(string service, GrainId grain) =>
        (await Table(service).UpsertRow(new ReminderEntry
        {
            GrainId = grain,
            ReminderName = "recovery",
            StartAt = Start.AddMinutes(1),
            Period = TimeSpan.FromMinutes(1),
        }))!;

    protected override async Task<IReadOnlyList<string>> ReadRowsAsync(string service) =>
        [.. (await Table(service).ReadRows(0, 0)).Reminders.Select(row => row.GrainId.ToString()).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Concurrent_writers_share_transactions_and_each_gets_its_own_rows_etag()
    {
        var counting = new CountingBatches(Table(Service));
        var writer = new ReminderRowWriter(Table(Service), new ServiceCollection().AddSingleton<IReminderRowBatches>(counting).BuildServiceProvider());
        var grains = Enumerable.Range(0, 200).Select(i => GrainId.Create("payment", $"c{i}")).ToList();

        var etags = await Task.WhenAll(grains.Select(grain => Task.Run(() => writer.UpsertAsync(Row(grain, Start, TimeSpan.FromMinutes(1))))));

        Assert.All(etags, etag => Assert.Equal("1", etag));
        Assert.Equal(grains.Select(grain => grain.ToString()).Order(StringComparer.Ordinal), await ReadRowsAsync(Service));
        Assert.Equal(200, counting.Batches.Sum());
        Assert.True(counting.Batches.Count < 200, $"200 concurrent rows took {counting.Batches.Count} transactions");

        // Two writes of one row never share a transaction: the second is a second version.
        var twice = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => writer.UpsertAsync(Row(grains[0], Start, TimeSpan.FromMinutes(1)))));
        Assert.Equal(["2", "3"], twice.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_failed_group_write_fails_every_writer_in_it()
    {
        var writer = new ReminderRowWriter(Table(Service), new ServiceCollection().AddSingleton<IReminderRowBatches>(new FailingBatches()).BuildServiceProvider());
        var writes = Enumerable.Range(0, 20).Select(i => writer.UpsertAsync(Row(GrainId.Create("payment", $"f{i}"), Start, TimeSpan.FromMinutes(1)))).ToList();

        foreach (var write in writes)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => write);
        }

        Assert.Empty(await ReadRowsAsync(Service));
    }

    private sealed class CountingBatches(IReminderRowBatches inner) : IReminderRowBatches
    {
        public System.Collections.Concurrent.ConcurrentQueue<int> Batches { get; } = new();

        public Task<IReadOnlyList<string>> UpsertRowsAsync(IReadOnlyList<ReminderEntry> rows, CancellationToken cancellation)
        {
            Batches.Enqueue(rows.Count);
            return inner.UpsertRowsAsync(rows, cancellation);
        }

        public Task<int> RemoveRowsAsync(IReadOnlyList<ReminderRowKey> rows, CancellationToken cancellation) => inner.RemoveRowsAsync(rows, cancellation);
    }

    private sealed class FailingBatches : IReminderRowBatches
    {
        public async Task<IReadOnlyList<string>> UpsertRowsAsync(IReadOnlyList<ReminderEntry> rows, CancellationToken cancellation)
        {
            await Task.Yield();
            throw new InvalidOperationException("the table is gone");
        }

        public Task<int> RemoveRowsAsync(IReadOnlyList<ReminderRowKey> rows, CancellationToken cancellation) => Task.FromResult(0);
    }

    protected override async Task<(DateTime Start, TimeSpan Period, string ETag, uint Hash)> ReadRowAsync(string service, GrainId grain)
    {
        var row = await Table(service).ReadRow(grain, "recovery") ?? throw new InvalidOperationException($"no row for {grain}");
        var hash = grain.GetUniformHashCode();

        // The ring read finds the row by its hash, as the reminder service of the silo owning that range does.
        Assert.Contains((await Table(service).ReadRows(hash - 1, hash)).Reminders, entry => entry.GrainId == grain);
        return (row.StartAt, row.Period, row.ETag!, hash);
    }

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

    protected override IReminderRowBatches NewRemover() => new PostgresReminderRows(_connectionString, Service);

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
        command.Parameters.AddWithValue("StartTime", Start.AddMinutes(1));
        command.Parameters.AddWithValue("Period", 60_000L);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    // Through the statement Orleans' reminder provider reads a row with (migration 3's ReadReminderRowKey).
    protected override async Task<(DateTime Start, TimeSpan Period, string ETag, uint Hash)> ReadRowAsync(string service, GrainId grain)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT querytext FROM orleansquery WHERE querykey = 'ReadReminderRowKey'", connection);
        await using var command = new NpgsqlCommand((string)(await query.ExecuteScalarAsync())!, connection);
        command.Parameters.AddWithValue("ServiceId", service);
        command.Parameters.AddWithValue("GrainId", grain.ToString());
        command.Parameters.AddWithValue("ReminderName", "recovery");
        DateTime start;
        TimeSpan period;
        string etag;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync(), $"no row for {grain}");
            start = reader.GetFieldValue<DateTime>(reader.GetOrdinal("StartTime"));
            period = TimeSpan.FromMilliseconds(reader.GetInt64(reader.GetOrdinal("Period")));
            etag = reader.GetInt32(reader.GetOrdinal("Version")).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var hash = (await SchemaTests.ReadAsync(
            _connectionString,
            $"SELECT grain_hash FROM orleans_reminder WHERE service_id = '{service}' AND grain_id = '{grain}'",
            reader => unchecked((uint)reader.GetInt32(0)))).Single();
        return (start, period, etag, hash);
    }

    protected override async Task<IReadOnlyList<string>> ReadRowsAsync(string service) =>
        await SchemaTests.ReadAsync(
            _connectionString,
            $"SELECT grain_id FROM orleans_reminder WHERE service_id = '{service}' ORDER BY grain_id COLLATE \"C\"",
            reader => reader.GetString(0));
}
