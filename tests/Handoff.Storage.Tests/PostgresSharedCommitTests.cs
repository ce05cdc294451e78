using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Npgsql;
using Orleans.Serialization.Activators;
using Orleans.Serialization.Serializers;

namespace Handoff.Storage.Tests;

/// <summary>Ledger appends and grain writes of a hub on PostgreSQL go through one writer and share its commits, and a charge is still stored once per payment.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSharedCommitTests(PostgresServer server) : IAsyncLifetime
{
    private const string Service = "handoff";
    private const string Household = "home-shared";
    private static readonly DateTimeOffset s_at = new(2026, 12, 2, 18, 0, 0, TimeSpan.Zero);

    private string _database = null!;
    private PostgresWriter _writer = null!;
    private PostgresLedgerJournal _journal = null!;
    private PostgresGrainStorage _storage = null!;

    public async Task InitializeAsync()
    {
        _database = await server.CreateUniqueDatabaseAsync("shared_commit");
        await PostgresSchema.EnsureAsync(_database, CancellationToken.None);
        _writer = new PostgresWriter(_database);
        _journal = new PostgresLedgerJournal(_database, Service, () => _writer);
        _storage = new PostgresGrainStorage("test", _database, Service, () => _writer, new JsonGrainStateSerializer(), hashers: null, new NewActivators());
    }

    public async Task DisposeAsync() => await _writer.DisposeAsync();

    [Fact]
    public async Task A_charge_shares_the_commit_of_grain_writes_and_a_repeated_payment_is_charged_once()
    {
        var (commits, retried) = (_writer.Commits, _writer.Retried);
        var hold = await HoldAsync();
        var payment = _storage.WriteStateAsync("payment", GrainId.Create("payment", "pay-tea"), new GrainState<CounterState>(new CounterState { Value = 1 }));
        var charge = _journal.AppendAsync(Household, Entry(1, "pay-tea", 12.50m), default);
        var repeated = _journal.AppendAsync(Household, Entry(2, "pay-tea", 12.50m), default);
        var batch = _journal.AppendBatchAsync(Household, [Entry(3, "pay-bus", 2m), Entry(4, "pay-cake", 4m)], default);
        await hold;

        await payment;
        Assert.Equal(AppendResult.Appended, await charge);
        Assert.Equal(AppendResult.PaymentAlreadyCharged, await repeated);
        Assert.True(await batch);
        Assert.Equal((commits + 2, retried), (_writer.Commits, _writer.Retried));

        var head = await _journal.LoadHeadAsync(Household, default);
        Assert.Equal((4L, 3L), (head.LastSequence, head.EntryCount));
        Assert.Equal(-18.50m, head.Balances[LedgerAccounts.BalanceKey("payer:phone-1", "CNY")]);
        Assert.Equal(["pay-tea", "pay-bus", "pay-cake"], (await _journal.ReadAsync(Household, 0, 10, default)).Select(entry => entry.PaymentId));
    }

    [Fact]
    public async Task A_batch_with_a_taken_payment_id_stores_nothing_while_what_shared_its_commit_is_stored()
    {
        Assert.Equal(AppendResult.Appended, await _journal.AppendAsync(Household, Entry(1, "pay-tea", 12.50m), default));
        var retried = _writer.Retried;
        var hold = await HoldAsync();
        var payment = _storage.WriteStateAsync("payment", GrainId.Create("payment", "pay-bus"), new GrainState<CounterState>(new CounterState { Value = 2 }));
        var refused = _journal.AppendBatchAsync(Household, [Entry(2, "pay-bus", 2m), Entry(3, "pay-tea", 12.50m)], default);
        var other = _journal.AppendAsync("home-other", Entry(1, "pay-other", 7m), default);
        await hold;

        Assert.False(await refused);
        await payment;
        Assert.Equal(AppendResult.Appended, await other);
        Assert.Equal(retried + 3, _writer.Retried);
        var head = await _journal.LoadHeadAsync(Household, default);
        Assert.Equal((1L, 1L), (head.LastSequence, head.EntryCount));
        Assert.Equal(-12.50m, head.Balances[LedgerAccounts.BalanceKey("payer:phone-1", "CNY")]);
        Assert.Equal(2, (await ReadAsync("pay-bus")).State!.Value);
        Assert.Equal((1L, 1L), ((await _journal.LoadHeadAsync("home-other", default)).LastSequence, (await _journal.LoadHeadAsync("home-other", default)).EntryCount));
    }

    // A slow statement keeps the writer's connection busy, so what is queued behind it goes in one batch.
    // Returns once the slow statement is on the wire, with the task that completes after it.
    private async Task<Task<int>> HoldAsync()
    {
        var hold = _writer.WriteAsync(() => new NpgsqlBatchCommand("SELECT pg_sleep(0.5)"), (_, _) => Task.FromResult(0));
        await Task.Delay(100);
        return hold;
    }

    private async Task<GrainState<CounterState>> ReadAsync(string paymentId)
    {
        var state = new GrainState<CounterState>();
        await _storage.ReadStateAsync("payment", GrainId.Create("payment", paymentId), state);
        return state;
    }

    private static LedgerEntry Entry(long sequence, string paymentId, decimal amount) =>
        new(sequence, paymentId, "payer:phone-1", "merchant:Tea House", amount, "CNY", s_at.AddSeconds(sequence));

    private sealed class NewActivators : IActivatorProvider
    {
        public IActivator<T> GetActivator<T>() => new Fresh<T>();

        private sealed class Fresh<T> : IActivator<T>
        {
            public T Create() => Activator.CreateInstance<T>();
        }
    }
}
