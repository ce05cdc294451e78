using Handoff.Grains;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Handoff.Storage.Tests;

[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    private PostgresCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await server.CreateUniqueDatabaseAsync("cluster");
        await PostgresSchema.EnsureAsync(connectionString, CancellationToken.None);
        _cluster = new PostgresCluster(connectionString);
        await _cluster.StartSiloAsync(0);
        await _cluster.StartSiloAsync(1);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Two_silos_are_active_and_a_client_reaches_a_grain_through_them()
    {
        Assert.Equal(
            ["silo-0:3", "silo-1:3"],
            await ReadMembershipAsync());
        Assert.Equal(
            [2],
            await SchemaTests.ReadAsync(_cluster.ConnectionString,
                $"SELECT count(*)::int FROM orleans_membership WHERE deployment_id = '{_cluster.ClusterId}' AND proxy_port > 0", r => r.GetInt32(0)));

        var client = await _cluster.ConnectClientAsync();

        Assert.Equal(5, await client.GetGrain<ICounterGrain>("reach").AddAsync(5));
    }

    [Fact]
    public async Task State_survives_deactivation_and_a_restart_of_every_silo()
    {
        var client = await _cluster.ConnectClientAsync();
        var counter = client.GetGrain<ICounterGrain>("durable");
        await counter.AddAsync(3);
        Assert.Equal(7, await counter.AddAsync(4));
        var firstActivation = await counter.ActivationAsync();

        await counter.DeactivateAsync();
        Assert.Equal(7, await counter.GetAsync());
        Assert.NotEqual(firstActivation, await counter.ActivationAsync());

        await _cluster.StopSiloAsync(0);
        await _cluster.StopSiloAsync(1);
        await _cluster.StartSiloAsync(0);
        await _cluster.StartSiloAsync(1);
        var freshClient = await _cluster.ConnectClientAsync();

        Assert.Equal(7, await freshClient.GetGrain<ICounterGrain>("durable").GetAsync());
        Assert.Equal(["silo-0:3", "silo-0:6", "silo-1:3", "silo-1:6"], await ReadMembershipAsync());
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused()
    {
        var storage = _cluster.Silos[0].Services.GetRequiredKeyedService<IGrainStorage>(HandoffOptions.StorageName);
        var grainId = GrainId.Create("stale-etag-probe", "one");
        const string StateName = "counter";

        var first = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync(StateName, grainId, first);
        var staleValue = new CounterState { Value = 99 };
        var stale = new GrainState<CounterState>(staleValue) { ETag = first.ETag, RecordExists = true };

        var current = await ReadStateAsync(storage, StateName, grainId);
        Current(current).Value = 2;
        await storage.WriteStateAsync(StateName, grainId, current);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grainId, stale));
        // A second first write of the same grain must not be taken for an insert either.
        await Assert.ThrowsAsync<InconsistentStateException>(
            () => storage.WriteStateAsync(StateName, grainId, new GrainState<CounterState>(new CounterState { Value = 50 })));
        var after = await ReadStateAsync(storage, StateName, grainId);
        Assert.Equal((2, current.ETag, true), (Current(after).Value, after.ETag, after.RecordExists));
    }

    [Fact]
    public async Task Clearing_state_forgets_the_value_and_refuses_a_stale_writer()
    {
        var storage = _cluster.Silos[1].Services.GetRequiredKeyedService<IGrainStorage>(HandoffOptions.StorageName);
        var grainId = GrainId.Create("clear-probe", "one");
        var state = new GrainState<CounterState>(new CounterState { Value = 8 });
        await storage.WriteStateAsync("counter", grainId, state);
        var stale = new GrainState<CounterState>(new CounterState { Value = 9 }) { ETag = state.ETag, RecordExists = true };

        await storage.ClearStateAsync("counter", grainId, state);

        var read = await ReadStateAsync(storage, "counter", grainId);
        Assert.Equal((0, false), (Current(read).Value, read.RecordExists));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", grainId, stale));
        Current(read).Value = 10;
        await storage.WriteStateAsync("counter", grainId, read);
        Assert.True(read.RecordExists);
    }

    [Fact]
    public async Task A_reminder_fires_is_listed_and_is_removed()
    {
        var client = await _cluster.ConnectClientAsync();
        var probe = client.GetGrain<IReminderProbeGrain>("probe");

        await probe.StartAsync("tick", TimeSpan.FromSeconds(1));

        Assert.Equal(["tick"], await probe.ListAsync());
        Assert.Equal(["tick"], await ReadRemindersAsync());
        await WaitUntilAsync(async () => await probe.TicksAsync() >= 2, "reminder 'tick' of reminder-probe/probe to fire twice");

        await probe.StopAsync("tick");

        Assert.Empty(await probe.ListAsync());
        Assert.Empty(await ReadRemindersAsync());
    }

    private static async Task<GrainState<CounterState>> ReadStateAsync(IGrainStorage storage, string stateName, GrainId grainId)
    {
        var state = new GrainState<CounterState>();
        await storage.ReadStateAsync(stateName, grainId, state);
        return state;
    }

    // The storage always hands back a state object, a fresh one when nothing is stored.
    private static CounterState Current(GrainState<CounterState> state) =>
        state.State ?? throw new InvalidOperationException("the grain storage returned no state object");

    private Task<List<string>> ReadMembershipAsync() =>
        SchemaTests.ReadAsync(_cluster.ConnectionString,
            $"SELECT silo_name || ':' || status FROM orleans_membership WHERE deployment_id = '{_cluster.ClusterId}' ORDER BY 1",
            r => r.GetString(0));

    private Task<List<string>> ReadRemindersAsync() =>
        SchemaTests.ReadAsync(_cluster.ConnectionString,
            $"SELECT reminder_name FROM orleans_reminder WHERE service_id = '{_cluster.ServiceId}' ORDER BY 1",
            r => r.GetString(0));

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what) =>
        BoundedWait.UntilAsync(condition, what, s_patience);
}
