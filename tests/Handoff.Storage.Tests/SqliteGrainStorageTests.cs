using System.Globalization;
using Handoff.Grains;
using Handoff.Silo.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization.Activators;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Handoff.Storage.Tests;

/// <summary>The embedded hub's grain storage: Orleans' etag contract, group commit, and the rows of earlier hubs.</summary>
public sealed class SqliteGrainStorageTests : IAsyncLifetime
{
    private const string Service = "handoff";

    private SqliteFolder _folder = null!;
    private SqliteWriter _writer = null!;
    private SqliteGrainStorage _storage = null!;

    public Task InitializeAsync()
    {
        _folder = new SqliteFolder("handoff-grain-state-");
        _writer = new SqliteWriter(_folder.ConnectionString);
        _storage = Storage(_folder.ConnectionString, _writer);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        _folder.Dispose();
    }

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

        // Another state name of the same grain is another record.
        var other = new GrainState<CounterState>(new CounterState { Value = 5 });
        await _storage.WriteStateAsync("other", grain, other);
        Assert.Equal("1", other.ETag);
    }

    [Fact]
    public async Task A_cleared_state_reads_empty_keeps_its_version_and_refuses_a_create_and_a_stale_writer()
    {
        var grain = GrainId.Create("payment", "cleared");
        var state = new GrainState<CounterState>(new CounterState { Value = 8 });
        await _storage.WriteStateAsync("payment", grain, state);
        var stale = new GrainState<CounterState>(new CounterState { Value = 9 }) { ETag = state.ETag };

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("payment", grain, new GrainState<CounterState>(new CounterState()) { ETag = "7" }));
        await _storage.ClearStateAsync("payment", grain, state);
        Assert.Equal((0, "2", false), (state.State!.Value, state.ETag, state.RecordExists));

        var read = await ReadAsync(_storage, grain);
        Assert.Equal((0, "2", false), (read.State!.Value, read.ETag, read.RecordExists));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("payment", grain, stale));
        // LazyState.TryCreateAsync relies on this: a cleared record is still a record.
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("payment", grain, new GrainState<CounterState>(new CounterState())));
        read.State!.Value = 10;
        await _storage.WriteStateAsync("payment", grain, read);
        Assert.Equal(("3", true), (read.ETag, read.RecordExists));

        // Without an etag: nothing stored is nothing to clear.
        var nothing = new GrainState<CounterState>(new CounterState());
        await _storage.ClearStateAsync("payment", GrainId.Create("payment", "never"), nothing);
        Assert.Null(nothing.ETag);
    }

    [Fact]
    public async Task Concurrent_writes_share_commits_and_read_back_after_a_fresh_open()
    {
        const int Grains = 300;
        var commitsBefore = _writer.Commits;
        var itemsBefore = _writer.Items;
        await Task.WhenAll(Enumerable.Range(0, Grains).Select(i => Task.Run(async () =>
        {
            var state = new GrainState<CounterState>(new CounterState { Value = i });
            await _storage.WriteStateAsync("payment", GrainId.Create("payment", $"p-{i}"), state);
            state.State!.Value = i + 1;
            await _storage.WriteStateAsync("payment", GrainId.Create("payment", $"p-{i}"), state);
        })));

        var commits = _writer.Commits - commitsBefore;
        Assert.Equal(2 * Grains, _writer.Items - itemsBefore);
        Assert.True(commits < 2 * Grains, $"{commits} commits for {2 * Grains} writes");

        await _writer.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await using var writer = new SqliteWriter(SqliteStore.Ensure(_folder.Directory));
        var reopened = Storage(_folder.ConnectionString, writer);
        for (var i = 0; i < Grains; i++)
        {
            var read = await ReadAsync(reopened, GrainId.Create("payment", $"p-{i}"));
            Assert.Equal((i + 1, "2", true), (read.State!.Value, read.ETag, read.RecordExists));
        }
    }

    [Fact]
    public async Task A_stale_write_in_a_batch_fails_alone_and_the_others_commit()
    {
        var contested = GrainId.Create("payment", "contested");
        var current = new GrainState<CounterState>(new CounterState { Value = 1 });
        await _storage.WriteStateAsync("payment", contested, current);
        current.State!.Value = 2;
        await _storage.WriteStateAsync("payment", contested, current);

        var (release, commitsBefore) = await SqliteWriterTests.HoldTheWriterAsync(_writer);
        var others = Enumerable.Range(0, 30)
            .Select(i => _storage.WriteStateAsync("payment", GrainId.Create("payment", $"batch-{i}"), new GrainState<CounterState>(new CounterState { Value = i })))
            .ToList();
        var stale = _storage.WriteStateAsync("payment", contested, new GrainState<CounterState>(new CounterState { Value = 99 }) { ETag = "1" });
        var create = _storage.WriteStateAsync("payment", contested, new GrainState<CounterState>(new CounterState { Value = 98 }));
        release();

        await Task.WhenAll(others);
        await Assert.ThrowsAsync<InconsistentStateException>(() => stale);
        await Assert.ThrowsAsync<InconsistentStateException>(() => create);
        Assert.Equal(commitsBefore + 2, _writer.Commits);
        Assert.Equal((2, "2"), ((await ReadAsync(_storage, contested)).State!.Value, (await ReadAsync(_storage, contested)).ETag));
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(i, (await ReadAsync(_storage, GrainId.Create("payment", $"batch-{i}"))).State!.Value);
        }
    }

    [Fact]
    public void Row_keys_follow_the_ADO_NET_layout()
    {
        Assert.Equal((0L, 0L, "p-1"), SqliteGrainStorage.RowKey(GrainId.Create("payment", "p-1")));
        Assert.Equal((0L, 0xBEEFL, ""), SqliteGrainStorage.RowKey(GrainId.Create("payment", "beef")));
        Assert.Equal((0L, 255L, "x"), SqliteGrainStorage.RowKey(GrainId.Create("payment", "00000000000000ff+x")));
        Assert.Equal(
            (-3607513408948976281L, -1167088121787636991L, "ext"),
            SqliteGrainStorage.RowKey(GrainId.Create("payment", "0123456789abcdef0123456789abcdef+ext")));
    }

    /// <summary>The grain ids of the compatibility check: every key layout the ADO.NET provider had.</summary>
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
    public async Task Rows_are_those_of_the_ADO_NET_provider_and_each_store_reads_the_others()
    {
        using var adoFolder = new SqliteFolder("handoff-grain-state-ado-");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = "compat";
                options.ServiceId = Service;
            });
            silo.UseLocalhostClustering(LoopbackPorts.Reserve(), LoopbackPorts.Reserve());
            // The provider of earlier hubs, on the queries of sqlite-schema.sql.
            silo.AddAdoNetGrainStorage("ado", options =>
            {
                options.Invariant = SqliteStore.Invariant;
                options.ConnectionString = adoFolder.ConnectionString;
                options.GrainStorageSerializer = new JsonGrainStateSerializer();
            });
            silo.AddAdoNetGrainStorage("ado-on-ours", options =>
            {
                options.Invariant = SqliteStore.Invariant;
                options.ConnectionString = _folder.ConnectionString;
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

            var expected = await RowsAsync(adoFolder.ConnectionString);
            Assert.Equal(s_layouts.Length + 1, expected.Count);
            Assert.Equal(expected, await RowsAsync(_folder.ConnectionString));

            // Each reads what the other wrote, etags included, and writes on from there.
            await using var adoWriter = new SqliteWriter(adoFolder.ConnectionString);
            await AssertReadsAsync(Storage(adoFolder.ConnectionString, adoWriter, host.Services.GetRequiredService<IActivatorProvider>()));
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
                var read = await ReadAsync(reader, grain);
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
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT service_id, grain_type, grain_n0, grain_n1, grain_key, quote(payload), typeof(payload), version, length(modified_at)
            FROM handoff_grain_state ORDER BY 1, 2, 3, 4, 5;
            """;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    private static Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, GrainId grain) => ReadAsync(storage, "payment", grain);

    private static async Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, string stateName, GrainId grain)
    {
        var state = new GrainState<CounterState>();
        await storage.ReadStateAsync(stateName, grain, state);
        Assert.NotNull(state.State);
        return state;
    }

    private static SqliteGrainStorage Storage(string connectionString, SqliteWriter writer, IActivatorProvider? activators = null) =>
        new("test", connectionString, Service, writer, new JsonGrainStateSerializer(), activators ?? new NewActivators());

    private sealed class NewActivators : IActivatorProvider
    {
        public IActivator<T> GetActivator<T>() => new Fresh<T>();

        private sealed class Fresh<T> : IActivator<T>
        {
            public T Create() => Activator.CreateInstance<T>();
        }
    }
}
