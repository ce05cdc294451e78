using System.Globalization;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization.Activators;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Handoff.Storage.Tests;

/// <summary>
/// The cluster's grain storage on a real PostgreSQL server: Orleans' ETag contract, writes sharing commits, a stale
/// write failing alone, two hubs on one database, and the rows of Orleans' ADO.NET provider.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresGrainStorageTests(PostgresServer server) : IAsyncLifetime
{
    private const string Service = "handoff";

    private string _database = null!;
    private PostgresWriter _writer = null!;
    private PostgresGrainStorage _storage = null!;

    public async Task InitializeAsync()
    {
        _database = await server.CreateUniqueDatabaseAsync("grain_state");
        await PostgresSchema.EnsureAsync(_database, CancellationToken.None);
        _writer = new PostgresWriter(_database);
        _storage = Storage(_database, _writer);
    }

    public async Task DisposeAsync() => await _writer.DisposeAsync();

    [Fact]
    public async Task A_state_reads_back_with_its_version_as_etag_and_a_stale_or_second_create_is_refused()
    {
        var grain = GrainId.Create("payment", "p-1");
        var none = await ReadAsync(_storage, grain);
        Assert.Equal((0, null, false), (none.State!.Value, none.ETag, none.RecordExists));

        var first = new GrainState<CounterState>(new CounterState { Value = 1 });
        await _storage.WriteStateAsync("payment", grain, first);
        Assert.Equal(("1", true), (first.ETag, first.RecordExists));
        var stale = new GrainState<CounterState>(new CounterState { Value = 99 }) { ETag = first.ETag };

        var read = await ReadAsync(_storage, grain);
        Assert.Equal((1, "1", true), (read.State!.Value, read.ETag, read.RecordExists));
        read.State!.Value = 2;
        await _storage.WriteStateAsync("payment", grain, read);
        Assert.Equal("2", read.ETag);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("payment", grain, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("payment", grain, new GrainState<CounterState>(new CounterState { Value = 50 })));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("payment", grain, new GrainState<CounterState>(new CounterState()) { ETag = "not-a-version" }));
        var after = await ReadAsync(_storage, grain);
        Assert.Equal((2, "2", true), (after.State!.Value, after.ETag, after.RecordExists));

        // A clear keeps the row without state and with a new version; a stale clear or write is refused after it.
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("payment", grain, stale));
        await _storage.ClearStateAsync("payment", grain, after);
        Assert.Equal((0, "3", false), (after.State!.Value, after.ETag, after.RecordExists));
        var cleared = await ReadAsync(_storage, grain);
        Assert.Equal((0, "3", false), (cleared.State!.Value, cleared.ETag, cleared.RecordExists));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("payment", grain, new GrainState<CounterState>(new CounterState { Value = 7 })));
        cleared.State!.Value = 4;
        await _storage.WriteStateAsync("payment", grain, cleared);
        Assert.Equal((4, "4", true), ((await ReadAsync(_storage, grain)).State!.Value, cleared.ETag, cleared.RecordExists));

        // Clearing what was never stored stores nothing.
        var never = new GrainState<CounterState>(new CounterState());
        await _storage.ClearStateAsync("payment", GrainId.Create("payment", "never"), never);
        Assert.Equal((null, false), (never.ETag, never.RecordExists));
        Assert.Equal(0L, await ScalarAsync<long>(_database, "SELECT count(*) FROM orleans_grain_state WHERE grain_id_extension = 'never'"));
    }

    [Fact]
    public async Task Many_concurrent_writes_share_commits_and_are_all_durable()
    {
        const int Grains = 400;
        var commitsBefore = _writer.Commits;
        var states = Enumerable.Range(0, Grains).Select(i => new GrainState<CounterState>(new CounterState { Value = i })).ToArray();
        await Task.WhenAll(states.Select((state, i) => _storage.WriteStateAsync("counter", GrainId.Create("counter", $"c-{i}"), state)));
        await Task.WhenAll(states.Select((state, i) =>
        {
            state.State!.Value += 1_000;
            return _storage.WriteStateAsync("counter", GrainId.Create("counter", $"c-{i}"), state);
        }));

        Assert.All(states, state => Assert.Equal("2", state.ETag));
        var commits = _writer.Commits - commitsBefore;
        Assert.True(commits < 2 * Grains / 4, $"{2 * Grains} writes took {commits} commits: they did not share them");

        // Seen from another storage on fresh connections, with its own writer: every write is there.
        await using var otherWriter = new PostgresWriter(_database);
        var other = Storage(_database, otherWriter);
        for (var i = 0; i < Grains; i++)
        {
            var read = await ReadAsync(other, "counter", GrainId.Create("counter", $"c-{i}"));
            Assert.Equal((1_000 + i, "2", true), (read.State!.Value, read.ETag, read.RecordExists));
        }

        Assert.Equal((long)Grains, await ScalarAsync<long>(_database, "SELECT count(*) FROM orleans_grain_state WHERE grain_type = 'counter' AND version = 2"));
    }

    [Fact]
    public async Task A_stale_etag_in_a_batch_fails_alone_and_the_rest_commits()
    {
        const int Grains = 40;
        var states = Enumerable.Range(0, Grains).Select(i => new GrainState<CounterState>(new CounterState { Value = i })).ToArray();
        await Task.WhenAll(states.Select((state, i) => _storage.WriteStateAsync("counter", GrainId.Create("counter", $"s-{i}"), state)));
        var staleGrain = GrainId.Create("counter", "s-0");
        var stale = new GrainState<CounterState>(new CounterState { Value = -1 }) { ETag = "7" };
        var create = new GrainState<CounterState>(new CounterState { Value = -2 });

        // A slow statement holds the writer's connection, so everything queued behind it goes in one batch.
        var (commits, retried) = (_writer.Commits, _writer.Retried);
        var hold = _writer.WriteAsync(() => new NpgsqlBatchCommand("SELECT pg_sleep(0.5)"), (_, _) => Task.FromResult(0));
        await Task.Delay(100);
        var writes = states.Select((state, i) =>
        {
            state.State!.Value += 100;
            return _storage.WriteStateAsync("counter", GrainId.Create("counter", $"s-{i}"), state);
        }).ToList();
        var staleWrite = _storage.WriteStateAsync("counter", staleGrain, stale);
        var secondCreate = _storage.WriteStateAsync("counter", GrainId.Create("counter", "s-1"), create);
        await hold;
        await Task.WhenAll(writes);

        await Assert.ThrowsAsync<InconsistentStateException>(() => staleWrite);
        await Assert.ThrowsAsync<InconsistentStateException>(() => secondCreate);
        Assert.Equal((commits + 2, retried), (_writer.Commits, _writer.Retried));
        for (var i = 0; i < Grains; i++)
        {
            var read = await ReadAsync(_storage, "counter", GrainId.Create("counter", $"s-{i}"));
            Assert.Equal((100 + i, "2"), (read.State!.Value, read.ETag));
        }
    }

    [Fact]
    public async Task A_statement_that_fails_its_batch_fails_alone_when_the_batch_is_run_again()
    {
        var state = new GrainState<CounterState>(new CounterState { Value = 1 });
        var hold = _writer.WriteAsync(() => new NpgsqlBatchCommand("SELECT pg_sleep(0.5)"), (_, _) => Task.FromResult(0));
        await Task.Delay(100);
        var good = _storage.WriteStateAsync("counter", GrainId.Create("counter", "good"), state);
        var bad = _writer.WriteAsync(() => new NpgsqlBatchCommand("SELECT 1 / 0"), (_, _) => Task.FromResult(0));
        var alsoGood = _storage.WriteStateAsync("counter", GrainId.Create("counter", "also-good"), new GrainState<CounterState>(new CounterState { Value = 2 }));
        await hold;

        var error = await Assert.ThrowsAsync<PostgresException>(() => bad);
        Assert.Equal(PostgresErrorCodes.DivisionByZero, error.SqlState);
        await good;
        await alsoGood;
        Assert.Equal(3, _writer.Retried);
        Assert.Equal(2, (await ReadAsync(_storage, "counter", GrainId.Create("counter", "also-good"))).State!.Value);
        Assert.Equal("1", (await ReadAsync(_storage, "counter", GrainId.Create("counter", "good"))).ETag);
    }

    [Fact]
    public async Task Two_hubs_on_one_database_refuse_each_others_stale_writes()
    {
        await using var secondWriter = new PostgresWriter(_database);
        var hubA = _storage;
        var hubB = Storage(_database, secondWriter);
        var grain = GrainId.Create("household", "h-1");

        // Both activate the grain before it has a record and create it at once: one create wins.
        var creates = await Task.WhenAll(
            Outcome(hubA.WriteStateAsync("household", grain, new GrainState<CounterState>(new CounterState { Value = 1 }))),
            Outcome(hubB.WriteStateAsync("household", grain, new GrainState<CounterState>(new CounterState { Value = 2 }))));
        Assert.Equal(1, creates.Count(error => error is null));
        Assert.IsType<InconsistentStateException>(Assert.Single(creates, error => error is not null));

        // Both read version 1; A writes, then B's write of what it read is stale.
        var onA = await ReadAsync(hubA, "household", grain);
        var onB = await ReadAsync(hubB, "household", grain);
        Assert.Equal(("1", "1"), (onA.ETag, onB.ETag));
        onA.State!.Value = 10;
        await hubA.WriteStateAsync("household", grain, onA);
        onB.State!.Value = 20;
        await Assert.ThrowsAsync<InconsistentStateException>(() => hubB.WriteStateAsync("household", grain, onB));
        await Assert.ThrowsAsync<InconsistentStateException>(() => hubB.ClearStateAsync("household", grain, onB));

        // B reads again and goes on; now A is the stale one.
        var fresh = await ReadAsync(hubB, "household", grain);
        Assert.Equal((10, "2"), (fresh.State!.Value, fresh.ETag));
        fresh.State!.Value = 30;
        await hubB.WriteStateAsync("household", grain, fresh);
        await Assert.ThrowsAsync<InconsistentStateException>(() => hubA.WriteStateAsync("household", grain, onA));
        Assert.Equal((30, "3"), ((await ReadAsync(hubA, "household", grain)).State!.Value, (await ReadAsync(hubA, "household", grain)).ETag));

        static async Task<Exception?> Outcome(Task write)
        {
            try
            {
                await write;
                return null;
            }
            catch (Exception exception)
            {
                return exception;
            }
        }
    }

    [Fact]
    public async Task Writes_acknowledged_or_queued_before_the_writer_is_disposed_are_stored()
    {
        var database = await server.CreateUniqueDatabaseAsync("grain_state_dispose");
        await PostgresSchema.EnsureAsync(database, CancellationToken.None);
        var writer = new PostgresWriter(database);
        var storage = Storage(database, writer);
        var acknowledged = new GrainState<CounterState>(new CounterState { Value = 5 });
        await storage.WriteStateAsync("counter", GrainId.Create("counter", "acknowledged"), acknowledged);
        var queued = Enumerable.Range(0, 50)
            .Select(i => storage.WriteStateAsync("counter", GrainId.Create("counter", $"queued-{i}"), new GrainState<CounterState>(new CounterState { Value = i })))
            .ToList();
        await writer.DisposeAsync();
        await Task.WhenAll(queued);
        Assert.True(writer.IsStopped);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteStateAsync("counter", GrainId.Create("counter", "late"), new GrainState<CounterState>(new CounterState())));

        // A fresh connection (no pool) sees them all.
        var unpooled = new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString;
        Assert.Equal(51L, await ScalarAsync<long>(unpooled, "SELECT count(*) FROM orleans_grain_state WHERE grain_type = 'counter'"));
        await using var otherWriter = new PostgresWriter(unpooled);
        var read = await ReadAsync(Storage(unpooled, otherWriter), "counter", GrainId.Create("counter", "acknowledged"));
        Assert.Equal((5, "1", true), (read.State!.Value, read.ETag, read.RecordExists));
    }

    [Fact]
    public void Row_keys_follow_the_ADO_NET_layout()
    {
        Assert.Equal((0L, 0L, "p-1"), Key(GrainId.Create("payment", "p-1")));
        Assert.Equal((0L, 0xBEEFL, (string?)null), Key(GrainId.Create("payment", "beef")));
        Assert.Equal((0L, 255L, "x"), Key(GrainId.Create("payment", "00000000000000ff+x")));
        Assert.Equal(
            (-3607513408948976281L, -1167088121787636991L, "ext"),
            Key(GrainId.Create("payment", "0123456789abcdef0123456789abcdef+ext")));

        static (long, long, string?) Key(GrainId grain)
        {
            var (n0, n1, extension, _) = PostgresGrainStorage.KeyOf(grain);
            return (n0, n1, extension);
        }
    }

    /// <summary>Every key layout the ADO.NET provider has.</summary>
    private static readonly GrainId[] s_layouts =
    [
        GrainId.Create("payment", "p-1"),
        GrainId.Create("payment", "beef"),
        GrainId.Create("payment", "0123456789abcdef0123456789abcdef"),
        GrainId.Create("payment", "0123456789abcdef0123456789abcdef+ext"),
        GrainId.Create("payment", "00000000000000ff"),
        GrainId.Create("payment", "00000000000000ff+x"),
        GrainId.Create("household", Guid.Parse("1a6a26bb-782a-4b44-9574-2c89908da6e2").ToString("N")),
        GrainId.Create("ns/with.dot", "k"),
        GrainId.Create("payment", "héllo wörld"),
    ];

    [Fact]
    public async Task Rows_are_those_of_the_ADO_NET_provider_and_each_storage_reads_the_others()
    {
        var adoDatabase = await server.CreateUniqueDatabaseAsync("grain_state_ado");
        await PostgresSchema.EnsureAsync(adoDatabase, CancellationToken.None);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = "compat";
                options.ServiceId = Service;
            });
            silo.UseLocalhostClustering(LoopbackPorts.Reserve(), LoopbackPorts.Reserve());
            // The provider that wrote a hub's grain state before, on the queries of migration 0002.
            silo.AddAdoNetGrainStorage("ado", options =>
            {
                options.Invariant = PostgresHostingExtensions.Invariant;
                options.ConnectionString = adoDatabase;
                options.GrainStorageSerializer = new JsonGrainStateSerializer();
            });
            silo.AddAdoNetGrainStorage("ado-on-ours", options =>
            {
                options.Invariant = PostgresHostingExtensions.Invariant;
                options.ConnectionString = _database;
                options.GrainStorageSerializer = new JsonGrainStateSerializer();
            });
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var ado = host.Services.GetRequiredKeyedService<IGrainStorage>("ado");
            await WriteHistoryAsync(ado);
            await WriteHistoryAsync(_storage);

            var expected = await RowsAsync(adoDatabase);
            Assert.Equal(s_layouts.Length + 1, expected.Count);
            Assert.Equal(expected, await RowsAsync(_database));

            // Each reads what the other wrote, etags included, and writes on from there.
            await using var adoWriter = new PostgresWriter(adoDatabase);
            await AssertReadsAsync(Storage(adoDatabase, adoWriter));
            await AssertReadsAsync(host.Services.GetRequiredKeyedService<IGrainStorage>("ado-on-ours"));
        }
        finally
        {
            await host.StopAsync();
        }

        static async Task WriteHistoryAsync(IGrainStorage storage)
        {
            foreach (var (grain, index) in s_layouts.Select((grain, index) => (grain, index)))
            {
                var state = new GrainState<CounterState>(new CounterState { Value = index });
                await storage.WriteStateAsync("payment", grain, state);
                if (index % 2 == 0)
                {
                    state.State!.Value = index * 10;
                    await storage.WriteStateAsync("payment", grain, state);
                }
            }

            var cleared = new GrainState<CounterState>(new CounterState { Value = 3 });
            await storage.WriteStateAsync("ledger", s_layouts[0], cleared);
            await storage.ClearStateAsync("ledger", s_layouts[0], cleared);
        }

        static async Task AssertReadsAsync(IGrainStorage reader)
        {
            foreach (var (grain, index) in s_layouts.Select((grain, index) => (grain, index)))
            {
                var read = await ReadAsync(reader, "payment", grain);
                Assert.Equal((index % 2 == 0 ? index * 10 : index, index % 2 == 0 ? "2" : "1", true), (read.State!.Value, read.ETag, read.RecordExists));
                read.State!.Value++;
                await reader.WriteStateAsync("payment", grain, read);
            }

            var cleared = await ReadAsync(reader, "ledger", s_layouts[0]);
            Assert.Equal((0, "2", false), (cleared.State!.Value, cleared.ETag, cleared.RecordExists));
        }
    }

    private static async Task<List<string>> RowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1,
                   coalesce(grain_id_extension, '<null>'), encode(payload, 'hex'), version
            FROM orleans_grain_state ORDER BY 1, 2, 3, 4, 5, 6, 7
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, GrainId grain) => ReadAsync(storage, "payment", grain);

    private static async Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, string stateName, GrainId grain)
    {
        var state = new GrainState<CounterState>();
        await storage.ReadStateAsync(stateName, grain, state);
        Assert.NotNull(state.State);
        return state;
    }

    private static PostgresGrainStorage Storage(string connectionString, PostgresWriter writer) =>
        new("test", connectionString, Service, () => writer, new JsonGrainStateSerializer(), hashers: null, new NewActivators());

    private sealed class NewActivators : IActivatorProvider
    {
        public IActivator<T> GetActivator<T>() => new Fresh<T>();

        private sealed class Fresh<T> : IActivator<T>
        {
            public T Create() => Activator.CreateInstance<T>();
        }
    }
}
