using System.Collections.Concurrent;
using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Handoff.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Handoff.Grains.Tests;

/// <summary>
/// Group commit, watched from the journal: a hub whose journal is the real memory journal behind a
/// thin decorator that counts the transactions the ledger grain asks for, per household, and can be
/// told to fail one.
/// </summary>
public sealed class LedgerBatchingTests(LedgerBatchingHub hub, ITestOutputHelper output) : IClassFixture<LedgerBatchingHub>
{
    private static readonly string Payer = LedgerAccounts.PayerAccount("phone-1");
    private static readonly string Merchant = LedgerAccounts.MerchantAccount("Tea House");

    [Fact]
    public async Task Concurrent_charges_of_one_household_are_stored_in_fewer_transactions_than_charges()
    {
        const int Charges = 200;
        var householdId = NewHousehold();
        var ledger = hub.Authority.GetGrain<ILedgerGrain>(householdId);

        var entries = await Task.WhenAll(Enumerable.Range(1, Charges).Select(i => ledger.ChargeAsync(new ChargeRequest($"pay-{i}", Payer, Merchant, i, "CNY"))));

        var transactions = hub.Journal.TransactionsOf(householdId);
        output.WriteLine($"{Charges} charges in {transactions.Count} transactions: {string.Join(" ", transactions)}");
        Assert.Equal(Enumerable.Range(1, Charges).Select(i => (long)i), entries.Select(entry => entry.Sequence).Order());
        Assert.All(transactions, transaction => Assert.True(transaction.Stored));
        Assert.Equal(Charges, transactions.Sum(transaction => transaction.Size));
        Assert.All(transactions, transaction => Assert.InRange(transaction.Size, 1, LedgerGrain.MaxBatch));
        // Fewer transactions than charges: some shared a commit. How many share one depends on how fast the
        // calls arrive, which a loaded machine slows; the share is a benchmark's figure, not this test's.
        Assert.True(transactions.Count < Charges, $"{Charges} concurrent charges took {transactions.Count} journal transactions");

        var summary = await ledger.GetSummaryAsync();
        Assert.Equal(Charges, summary.EntryCount);
        Assert.Equal(-Enumerable.Range(1, Charges).Sum(i => (decimal)i), summary.Balances[LedgerAccounts.BalanceKey(Payer, "CNY")]);
        Assert.Equal(0m, summary.Balances.Values.Sum());
    }

    [Fact]
    public async Task A_failed_batch_fails_each_of_its_charges_and_the_ledger_goes_on_from_the_store()
    {
        const int Charges = 60;
        var householdId = NewHousehold();
        var ledger = hub.Authority.GetGrain<ILedgerGrain>(householdId);
        var charges = Enumerable.Range(1, Charges).Select(i => new ChargeRequest($"pay-{i}", Payer, Merchant, i, "CNY")).ToArray();

        // The worst failure: the batch is stored, but the ledger is told it failed.
        hub.Journal.FailFirstBatchAfterStoring(householdId);
        var outcomes = await Task.WhenAll(charges.Select(async charge =>
        {
            try
            {
                return (Charge: charge, Entry: (LedgerEntry?)await ledger.ChargeAsync(charge));
            }
            catch (InvalidOperationException failure) when (failure.Message == CountingLedgerJournal.Failure)
            {
                return (Charge: charge, Entry: null);
            }
        }));

        // Exactly the charges of the failed batch saw the failure; the others were stored before or after it.
        var transactions = hub.Journal.TransactionsOf(householdId);
        output.WriteLine($"{Charges} charges in {transactions.Count} transactions: {string.Join(" ", transactions)}");
        var failedBatch = Assert.Single(transactions, transaction => transaction.Failed);
        var failed = outcomes.Where(outcome => outcome.Entry is null).Select(outcome => outcome.Charge).ToArray();
        Assert.Equal(failedBatch.Size, failed.Length);
        Assert.True(failed.Length > 1, "the journal failed a batch");
        var answered = outcomes.Select(outcome => outcome.Entry).OfType<LedgerEntry>().ToArray();
        Assert.Equal(Charges - failed.Length, answered.Select(entry => entry.Sequence).Distinct().Count());

        // Every charge asked again, as callers retry: the store's entries come back, nothing is stored twice.
        var retried = await Task.WhenAll(charges.Select(ledger.ChargeAsync));
        output.WriteLine($"with the retries: {string.Join(" | ", hub.Journal.TransactionsOf(householdId))}");
        Assert.Equal(answered, retried.Where(entry => !failed.Any(charge => charge.PaymentId == entry.PaymentId)));
        Assert.All(charges.Zip(retried), pair => Assert.Equal((pair.First.PaymentId, pair.First.Amount), (pair.Second.PaymentId, pair.Second.Amount)));
        Assert.Equal(Enumerable.Range(1, Charges).Select(i => (long)i), retried.Select(entry => entry.Sequence).Order());
        Assert.Equal(Charges, hub.Journal.TransactionsOf(householdId).Where(transaction => transaction.Stored).Sum(transaction => transaction.Size));
        Assert.Equal(retried.OrderBy(entry => entry.Sequence), await ledger.GetEntriesAsync(0, ILedgerGrain.MaxPageSize));
        var summary = await ledger.GetSummaryAsync();
        Assert.Equal(Charges, summary.EntryCount);
        Assert.Equal(Charges, summary.LastSequence);
        Assert.Equal(-charges.Sum(charge => charge.Amount), summary.Balances[LedgerAccounts.BalanceKey(Payer, "CNY")]);
        Assert.Equal(0m, summary.Balances.Values.Sum());
    }

    private static string NewHousehold() => "batching-" + Guid.NewGuid().ToString("n")[..12];
}

/// <summary>A hub alone, on memory storage, whose ledger journal is a <see cref="CountingLedgerJournal"/>.</summary>
public sealed class LedgerBatchingHub : IAsyncLifetime
{
    public CountingLedgerJournal Journal { get; } = new(new MemoryLedgerJournal());

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>Grain calls made by the hub itself: only the payment's authority may charge.</summary>
    public IGrainFactory Authority => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddHandoffHub(HubStorage.Memory);

            // Registered after the hub's own memory journal, so the ledger grain gets this one.
            silo.Services.AddSingleton<ILedgerJournal>(Journal);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The real journal behind a recorder of the appends (each one transaction) asked of it: their size and
/// whether they stored anything. Each append first waits a few milliseconds, as a round trip to a
/// database server does: the time in which a ledger's next charges arrive (the memory journal itself
/// answers at once).
/// </summary>
public sealed class CountingLedgerJournal(ILedgerJournal journal) : ILedgerJournal
{
    public const string Failure = "the test failed this append after storing it";

    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(10);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Transaction>> _transactions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failFirstBatch = new(StringComparer.Ordinal);

    /// <summary>The appends asked for the household so far, in order.</summary>
    public IReadOnlyList<Transaction> TransactionsOf(string householdId) =>
        _transactions.TryGetValue(householdId, out var transactions) ? [.. transactions] : [];

    /// <summary>The household's next append of more than one entry is stored, then reported as failed.</summary>
    public void FailFirstBatchAfterStoring(string householdId) => _failFirstBatch[householdId] = true;

    public Task<LedgerHead> LoadHeadAsync(string householdId, CancellationToken cancellation) => journal.LoadHeadAsync(householdId, cancellation);

    public Task<LedgerEntry?> FindAsync(string householdId, string paymentId, CancellationToken cancellation) => journal.FindAsync(householdId, paymentId, cancellation);

    public Task<IReadOnlyList<LedgerEntry>> ReadAsync(string householdId, long afterSequence, int limit, CancellationToken cancellation) =>
        journal.ReadAsync(householdId, afterSequence, limit, cancellation);

    public async Task<AppendResult> AppendAsync(string householdId, LedgerEntry entry, CancellationToken cancellation)
    {
        await Task.Delay(s_roundTrip, cancellation);
        var result = await journal.AppendAsync(householdId, entry, cancellation);
        Record(householdId, new Transaction(1, result == AppendResult.Appended, Failed: false));
        return result;
    }

    public async Task<bool> AppendBatchAsync(string householdId, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellation)
    {
        await Task.Delay(s_roundTrip, cancellation);
        var stored = await journal.AppendBatchAsync(householdId, entries, cancellation);
        var fail = stored && _failFirstBatch.TryRemove(householdId, out _);
        Record(householdId, new Transaction(entries.Count, stored, fail));
        return fail ? throw new InvalidOperationException(Failure) : stored;
    }

    private void Record(string householdId, Transaction transaction) => _transactions.GetOrAdd(householdId, _ => new()).Enqueue(transaction);

    /// <summary>One append: how many entries it carried, whether they were stored, whether the test then failed it.</summary>
    public sealed record Transaction(int Size, bool Stored, bool Failed)
    {
        public override string ToString() => $"{Size}{(Stored ? "" : " refused")}{(Failed ? " failed" : "")}";
    }
}
