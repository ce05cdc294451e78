using System.Data.Common;
using System.Text;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Handoff.Storage.Tests;

/// <summary>
/// What every ledger journal promises, run against each real store: an append stores the entry and both
/// postings or nothing, a batch stores all its entries and their postings or nothing, a payment id or
/// entry number is taken once per household, pages come in order.
/// </summary>
public abstract class LedgerJournalContract : IAsyncLifetime
{
    protected const string Payer = "payer:phone-1";
    protected const string Merchant = "merchant:Tea House";

    private static readonly DateTimeOffset s_at = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    protected string Household { get; } = "home-" + Guid.NewGuid().ToString("n")[..8];

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>A journal on the store under test; each call is another writer (another hub) on the same store.</summary>
    protected abstract ILedgerJournal NewJournal();

    protected static LedgerEntry Entry(long sequence, string paymentId, decimal amount, string currency = "CNY", string payer = Payer, string merchant = Merchant) =>
        new(sequence, paymentId, payer, merchant, amount, currency, s_at.AddSeconds(sequence).AddTicks(1230));

    [Fact]
    public async Task An_append_stores_the_entry_and_posts_both_balances()
    {
        var journal = NewJournal();
        var tea = Entry(1, "pay-tea", 12.50m);
        var bus = Entry(2, "pay-bus", 2m, "EUR", payer: "payer:phone-2", merchant: "merchant:Bus");

        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, tea, default));
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, bus, default));

        var head = await NewJournal().LoadHeadAsync(Household, default);
        Assert.Equal(2, head.LastSequence);
        Assert.Equal(2, head.EntryCount);
        Assert.Equal(
            new Dictionary<string, decimal>
            {
                ["payer:phone-1/CNY"] = -12.50m,
                ["merchant:Tea House/CNY"] = 12.50m,
                ["payer:phone-2/EUR"] = -2m,
                ["merchant:Bus/EUR"] = 2m,
            },
            head.Balances.ToDictionary());
        Assert.Equal(tea, await NewJournal().FindAsync(Household, "pay-tea", default));
        Assert.Null(await journal.FindAsync(Household, "pay-none", default));
        Assert.Equal([tea, bus], await journal.ReadAsync(Household, 0, 10, default));
    }

    [Fact]
    public async Task Every_entry_keeps_its_evidence_byte_for_byte_appended_alone_or_in_a_batch()
    {
        var journal = NewJournal();
        var tea = Entry(1, "pay-tea", 12.50m) with { Evidence = Evidence("pay-tea") };
        var topUp = Entry(2, "topup:wallet/seed", 50m, payer: "funding:household", merchant: "program:wallet") with { Evidence = ChargeEvidence.TopUp };
        LedgerEntry[] batch =
        [
            Entry(3, "pay-cake", 4m) with { Evidence = Evidence("pay-cake") },
            Entry(4, "refill:bob/CNY/2026-11", 20m, payer: "program:wallet", merchant: "budget:bob") with { Evidence = ChargeEvidence.Refill },
            Entry(5, "pay-older", 1m),
            Entry(6, "pay-tea/refund/r-1", 2m, payer: Merchant, merchant: Payer) with { Evidence = ChargeEvidence.Of(Evidence("pay-tea").Signed[0]) },
        ];

        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, tea, default));
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, topUp, default));
        Assert.True(await journal.AppendBatchAsync(Household, batch, default));

        Assert.Equal([tea, topUp, .. batch], await NewJournal().ReadAsync(Household, 0, 10, default));
        var found = await NewJournal().FindAsync(Household, "pay-tea", default);
        Assert.Equal(tea, found);
        Assert.Equal(tea.Evidence!.Signed[1].Statement, found!.Evidence!.Signed[1].Statement);
        Assert.Equal(batch[0], await NewJournal().FindAsync(Household, "pay-cake", default));
        Assert.Null((await NewJournal().FindAsync(Household, "pay-older", default))!.Evidence);

        // The same terms with other evidence are another entry, not this one.
        Assert.NotEqual(tea, found with { Evidence = Evidence("pay-other") });
    }

    [Fact]
    public async Task The_same_payment_id_again_is_refused_and_changes_nothing()
    {
        var journal = NewJournal();
        var first = Entry(1, "pay-tea", 12.50m);
        await journal.AppendAsync(Household, first, default);
        var before = await journal.LoadHeadAsync(Household, default);

        var again = await NewJournal().AppendAsync(Household, Entry(2, "pay-tea", 99m, "EUR"), default);

        Assert.Equal(AppendResult.PaymentAlreadyCharged, again);
        await AssertUnchangedAsync(before, [first]);
        Assert.Equal(first, await journal.FindAsync(Household, "pay-tea", default));
    }

    [Fact]
    public async Task A_taken_entry_number_is_refused_and_changes_nothing()
    {
        var journal = NewJournal();
        var first = Entry(1, "pay-tea", 12.50m);
        await journal.AppendAsync(Household, first, default);
        var before = await journal.LoadHeadAsync(Household, default);

        var taken = await NewJournal().AppendAsync(Household, Entry(1, "pay-cake", 4m), default);

        Assert.Equal(AppendResult.SequenceTaken, taken);
        await AssertUnchangedAsync(before, [first]);
        Assert.Null(await journal.FindAsync(Household, "pay-cake", default));
    }

    [Fact]
    public async Task Households_keep_their_own_numbers_payment_ids_and_balances()
    {
        var journal = NewJournal();
        var other = Household + "-other";

        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, Entry(1, "pay-1", 5m), default));
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(other, Entry(1, "pay-1", 7m), default));

        Assert.Equal(-5m, (await journal.LoadHeadAsync(Household, default)).Balances["payer:phone-1/CNY"]);
        Assert.Equal(-7m, (await journal.LoadHeadAsync(other, default)).Balances["payer:phone-1/CNY"]);
        Assert.Equal(7m, (await journal.FindAsync(other, "pay-1", default))!.Amount);
        Assert.Equal(LedgerHead.Empty.Balances, (await journal.LoadHeadAsync(Household + "-none", default)).Balances);
    }

    [Fact]
    public async Task Amounts_add_up_exactly()
    {
        var journal = NewJournal();
        decimal[] amounts = [0.10m, 0.20m, 1234567890123.45m, 0.001m];
        for (var i = 0; i < amounts.Length; i++)
        {
            await journal.AppendAsync(Household, Entry(i + 1, $"pay-{i}", amounts[i]), default);
        }

        var head = await NewJournal().LoadHeadAsync(Household, default);

        Assert.Equal(1234567890123.751m, head.Balances["merchant:Tea House/CNY"]);
        Assert.Equal(-1234567890123.751m, head.Balances["payer:phone-1/CNY"]);
        Assert.Equal(amounts, (await journal.ReadAsync(Household, 0, 10, default)).Select(entry => entry.Amount));
    }

    [Fact]
    public async Task The_journal_is_read_in_pages_in_entry_order()
    {
        var journal = NewJournal();
        for (var i = 1; i <= 7; i++)
        {
            await journal.AppendAsync(Household, Entry(i, $"pay-{i}", i), default);
        }

        Assert.Equal([1L, 2L, 3L], (await journal.ReadAsync(Household, 0, 3, default)).Select(entry => entry.Sequence));
        Assert.Equal([4L, 5L, 6L], (await journal.ReadAsync(Household, 3, 3, default)).Select(entry => entry.Sequence));
        Assert.Equal([7L], (await journal.ReadAsync(Household, 6, 3, default)).Select(entry => entry.Sequence));
        Assert.Empty(await journal.ReadAsync(Household, 7, 3, default));
        Assert.Empty(await journal.ReadAsync(Household + "-none", 0, 3, default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => journal.ReadAsync(Household, 0, 0, default));
    }

    [Fact]
    public async Task An_entry_that_moves_no_money_is_refused_and_stores_nothing()
    {
        var journal = NewJournal();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => journal.AppendAsync(Household, Entry(1, "pay-zero", 0m), default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => journal.AppendAsync(Household, Entry(1, "pay-minus", -1m), default));
        await Assert.ThrowsAsync<ArgumentException>(() => journal.AppendAsync(Household, Entry(1, "pay-self", 1m, merchant: Payer), default));

        await AssertUnchangedAsync(LedgerHead.Empty, []);
    }

    [Fact]
    public async Task Two_writers_charging_one_household_at_once_keep_every_charge_once_and_money_conserved()
    {
        const int Each = 25;
        var a = NewJournal();
        var b = NewJournal();

        // Each writer charges its own payments and, interleaved, the same shared ones, the way two
        // activations of one ledger grain would: entry number = last + 1, reload the head when it is taken.
        var charged = await Task.WhenAll(
            Task.Run(() => ChargeAllAsync(a, [.. Enumerable.Range(1, Each).SelectMany(i => new[] { Charge("a", i, "EUR"), Charge("shared", i, "CNY") })])),
            Task.Run(() => ChargeAllAsync(b, [.. Enumerable.Range(1, Each).SelectMany(i => new[] { Charge("b", i, "USD"), Charge("shared", i, "CNY") })])));

        Assert.Equal(3 * Each, charged.Sum());
        var head = await NewJournal().LoadHeadAsync(Household, default);
        var entries = await NewJournal().ReadAsync(Household, 0, 1_000, default);
        Assert.Equal(3 * Each, head.EntryCount);
        Assert.Equal(3 * Each, head.LastSequence);
        Assert.Equal(Enumerable.Range(1, 3 * Each).Select(i => (long)i), entries.Select(entry => entry.Sequence));
        Assert.Equal(3 * Each, entries.Select(entry => entry.PaymentId).Distinct().Count());
        Assert.All(head.Balances.GroupBy(pair => LedgerAccounts.CurrencyOf(pair.Key)), currency => Assert.Equal(0m, currency.Sum(pair => pair.Value)));
        Assert.Equal(Replay(entries), head.Balances.ToDictionary());
        var each = Enumerable.Range(1, Each).Sum(Amount);
        Assert.Equal(-each, head.Balances["payer:a/EUR"]);
        Assert.Equal(-each, head.Balances["payer:b/USD"]);
        Assert.Equal(-each, head.Balances["payer:shared/CNY"]);

        static LedgerEntry Charge(string payer, int i, string currency) =>
            new(0, $"pay-{payer}-{i}", $"payer:{payer}", Merchant, Amount(i), currency, s_at);

        static decimal Amount(int i) => 1m + (i / 100m);
    }

    [Fact]
    public async Task A_batch_stores_every_entry_and_posts_each_balance_once_with_their_sum()
    {
        var journal = NewJournal();
        var first = Entry(1, "pay-first", 1m);
        LedgerEntry[] batch =
        [
            Entry(2, "pay-tea", 12.50m),
            Entry(3, "pay-bus", 2m, "EUR", payer: "payer:phone-2", merchant: "merchant:Bus"),
            Entry(4, "pay-cake", 0.25m),
            Entry(5, "pay-refund", 2m, "EUR", payer: "merchant:Bus", merchant: "payer:phone-2"),
            Entry(6, "pay-exact", 1234567890123.001m, payer: "payer:phone-2"),
        ];
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, first, default));

        Assert.True(await journal.AppendBatchAsync(Household, batch, default));

        var head = await NewJournal().LoadHeadAsync(Household, default);
        LedgerEntry[] all = [first, .. batch];
        Assert.Equal(6, head.LastSequence);
        Assert.Equal(6, head.EntryCount);
        Assert.Equal(
            new Dictionary<string, decimal>
            {
                ["payer:phone-1/CNY"] = -13.75m,
                ["payer:phone-2/CNY"] = -1234567890123.001m,
                ["merchant:Tea House/CNY"] = 1234567890136.751m,

                // The refund gives back the bus fare: the balances stay, at zero.
                ["payer:phone-2/EUR"] = 0m,
                ["merchant:Bus/EUR"] = 0m,
            },
            head.Balances.ToDictionary());
        Assert.Equal(Replay(all), head.Balances.ToDictionary());
        Assert.All(head.Balances.GroupBy(pair => LedgerAccounts.CurrencyOf(pair.Key)), currency => Assert.Equal(0m, currency.Sum(pair => pair.Value)));
        Assert.Equal(all, await NewJournal().ReadAsync(Household, 0, 10, default));
        Assert.Equal(batch[3], await NewJournal().FindAsync(Household, "pay-refund", default));

        // The next append, single or batch, goes on from the batch's last number.
        Assert.Equal(AppendResult.SequenceTaken, await journal.AppendAsync(Household, Entry(6, "pay-late", 1m), default));
        Assert.True(await journal.AppendBatchAsync(Household, [Entry(7, "pay-7", 1m), Entry(8, "pay-8", 1m)], default));
        Assert.Equal(8, (await NewJournal().LoadHeadAsync(Household, default)).LastSequence);
    }

    [Fact]
    public async Task A_batch_of_one_is_an_append()
    {
        var journal = NewJournal();
        var tea = Entry(1, "pay-tea", 12.50m);

        Assert.True(await journal.AppendBatchAsync(Household, [tea], default));
        Assert.False(await NewJournal().AppendBatchAsync(Household, [Entry(2, "pay-tea", 12.50m)], default));
        Assert.False(await NewJournal().AppendBatchAsync(Household, [Entry(1, "pay-cake", 4m)], default));

        await AssertUnchangedAsync(new LedgerHead(Replay([tea]), 1, 1), [tea]);
    }

    [Fact]
    public async Task A_batch_with_a_payment_id_already_stored_stores_nothing()
    {
        var journal = NewJournal();
        var first = Entry(1, "pay-tea", 12.50m);
        await journal.AppendAsync(Household, first, default);
        var before = await journal.LoadHeadAsync(Household, default);

        // The stored payment id comes last, after entries that would have been stored.
        LedgerEntry[] batch = [Entry(2, "pay-cake", 4m), Entry(3, "pay-bus", 2m, "EUR"), Entry(4, "pay-tea", 99m, "USD")];
        Assert.False(await NewJournal().AppendBatchAsync(Household, batch, default));

        await AssertUnchangedAsync(before, [first]);
        Assert.Null(await journal.FindAsync(Household, "pay-cake", default));

        // One by one, the journal says which entry was the charged one.
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, batch[0], default));
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, batch[1], default));
        Assert.Equal(AppendResult.PaymentAlreadyCharged, await journal.AppendAsync(Household, batch[2], default));
    }

    [Fact]
    public async Task A_batch_whose_first_entry_number_is_taken_stores_nothing()
    {
        var journal = NewJournal();
        LedgerEntry[] stored = [Entry(1, "pay-tea", 12.50m), Entry(2, "pay-bus", 2m, "EUR")];
        Assert.True(await journal.AppendBatchAsync(Household, stored, default));
        var before = await journal.LoadHeadAsync(Household, default);

        Assert.False(await NewJournal().AppendBatchAsync(Household, [Entry(2, "pay-cake", 4m), Entry(3, "pay-pie", 5m)], default));
        Assert.False(await NewJournal().AppendBatchAsync(Household, [Entry(1, "pay-cake", 4m), Entry(2, "pay-pie", 5m), Entry(3, "pay-jam", 6m)], default));

        await AssertUnchangedAsync(before, stored);
        Assert.Null(await journal.FindAsync(Household, "pay-cake", default));
        Assert.Equal(AppendResult.SequenceTaken, await journal.AppendAsync(Household, Entry(2, "pay-cake", 4m), default));
    }

    [Fact]
    public async Task A_batch_no_journal_may_store_is_refused_and_stores_nothing()
    {
        var journal = NewJournal();

        await Assert.ThrowsAsync<ArgumentException>(() => journal.AppendBatchAsync(Household, [], default));
        await Assert.ThrowsAsync<ArgumentException>(() => journal.AppendBatchAsync(Household, [Entry(1, "pay-1", 1m), Entry(3, "pay-3", 1m)], default));
        await Assert.ThrowsAsync<ArgumentException>(() => journal.AppendBatchAsync(Household, [Entry(2, "pay-2", 1m), Entry(1, "pay-1", 1m)], default));
        await Assert.ThrowsAsync<ArgumentException>(() => journal.AppendBatchAsync(Household, [Entry(1, "pay-1", 1m), Entry(2, "pay-1", 1m)], default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => journal.AppendBatchAsync(Household, [Entry(1, "pay-1", 1m), Entry(2, "pay-zero", 0m)], default));
        await Assert.ThrowsAsync<ArgumentException>(() => journal.AppendBatchAsync(Household, [Entry(1, "pay-1", 1m), Entry(2, "pay-self", 1m, merchant: Payer)], default));

        await AssertUnchangedAsync(LedgerHead.Empty, []);
    }

    [Fact]
    public async Task Two_writers_appending_batches_at_the_same_numbers_at_once_store_one_batch()
    {
        const int Size = 20;
        LedgerEntry[] Batch(string writer, string currency) =>
            [.. Enumerable.Range(1, Size).Select(i => Entry(i, $"pay-{writer}-{i}", i, currency, payer: $"payer:{writer}"))];
        var a = Batch("a", "EUR");
        var b = Batch("b", "USD");

        var stored = await Task.WhenAll(
            Task.Run(() => NewJournal().AppendBatchAsync(Household, a, default)),
            Task.Run(() => NewJournal().AppendBatchAsync(Household, b, default)));

        Assert.Single(stored, true);
        var winner = stored[0] ? a : b;
        await AssertUnchangedAsync(new LedgerHead(Replay(winner), Size, Size), winner);
    }

    /// <summary>Charges each entry like a ledger grain does; returns how many this writer appended.</summary>
    private async Task<int> ChargeAllAsync(ILedgerJournal journal, IReadOnlyList<LedgerEntry> charges)
    {
        var appended = 0;
        var head = await journal.LoadHeadAsync(Household, default);
        foreach (var charge in charges)
        {
            for (var attempt = 1; ; attempt++)
            {
                var result = await journal.AppendAsync(Household, charge with { Sequence = head.LastSequence + 1 }, default);
                if (result == AppendResult.Appended)
                {
                    appended++;
                    head = head with { LastSequence = head.LastSequence + 1 };
                    break;
                }

                if (result == AppendResult.PaymentAlreadyCharged)
                {
                    break;
                }

                Assert.True(attempt < 1_000, $"{charge.PaymentId}: entry number taken {attempt} times in a row");
                head = await journal.LoadHeadAsync(Household, default);
            }
        }

        return appended;
    }

    /// <summary>
    /// Evidence as a charge of <paramref name="paymentId"/> carries it: two signed statements in their own text (line
    /// breaks, a merchant's accents and Chinese characters), with signatures and keys whose base64 has '+' and '/'. The
    /// bytes need not verify: a journal keeps them as they are.
    /// </summary>
    protected static ChargeEvidence Evidence(string paymentId) => ChargeEvidence.Of(
        new SignedStatement("tv-1", Encoding.UTF8.GetBytes($"handoff/request/v1\n4:home\n4:tv-1\n{paymentId.Length}:{paymentId}\n14:Café 茶 \"quoted\"\n"), Bytes(64, 1), Bytes(91, 2)),
        new SignedStatement("phone-1", Encoding.UTF8.GetBytes($"handoff/approval/v3\n{paymentId.Length}:{paymentId}\n5:12.50\n"), Bytes(64, 3), Bytes(91, 4)));

    private static byte[] Bytes(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 251) + seed))];

    protected static Dictionary<string, decimal> Replay(IEnumerable<LedgerEntry> entries)
    {
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var debit = LedgerAccounts.BalanceKey(entry.DebitAccount, entry.Currency);
            var credit = LedgerAccounts.BalanceKey(entry.CreditAccount, entry.Currency);
            balances[debit] = balances.GetValueOrDefault(debit) - entry.Amount;
            balances[credit] = balances.GetValueOrDefault(credit) + entry.Amount;
        }

        return balances;
    }

    /// <summary>The store fails the credit posting to <paramref name="account"/>, after the entry and the debit posting were written.</summary>
    protected async Task AssertAFailedAppendLeavesNothingAsync(Func<string, Task> failPostingsTo)
    {
        var journal = NewJournal();
        var first = Entry(1, "pay-tea", 12.50m);
        await journal.AppendAsync(Household, first, default);
        var before = await journal.LoadHeadAsync(Household, default);
        await failPostingsTo("vendor:Broken");

        // Postings go in account order: payer:... is written before vendor:Broken fails.
        await Assert.ThrowsAnyAsync<DbException>(() => journal.AppendAsync(Household, Entry(2, "pay-broken", 3m, merchant: "vendor:Broken"), default));

        await AssertUnchangedAsync(before, [first]);
        Assert.Null(await journal.FindAsync(Household, "pay-broken", default));
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, Entry(2, "pay-cake", 4m), default));
    }

    /// <summary>The store fails the credit posting to <paramref name="account"/> while a batch is appended, after its entries were written.</summary>
    protected async Task AssertAFailedBatchLeavesNothingAsync(Func<string, Task> failPostingsTo)
    {
        var journal = NewJournal();
        var first = Entry(1, "pay-tea", 12.50m);
        await journal.AppendAsync(Household, first, default);
        var before = await journal.LoadHeadAsync(Household, default);
        await failPostingsTo("vendor:Broken");

        LedgerEntry[] batch = [Entry(2, "pay-cake", 4m), Entry(3, "pay-broken", 3m, merchant: "vendor:Broken"), Entry(4, "pay-pie", 5m)];
        await Assert.ThrowsAnyAsync<DbException>(() => journal.AppendBatchAsync(Household, batch, default));

        await AssertUnchangedAsync(before, [first]);
        Assert.Null(await journal.FindAsync(Household, "pay-cake", default));
        Assert.True(await journal.AppendBatchAsync(Household, [Entry(2, "pay-cake", 4m), Entry(3, "pay-pie", 5m)], default));
    }

    protected async Task AssertServicesDoNotMixAsync(Func<string, ILedgerJournal> journalOf)
    {
        Assert.Equal(AppendResult.Appended, await journalOf("service-a").AppendAsync(Household, Entry(1, "pay-1", 5m), default));
        Assert.Equal(AppendResult.Appended, await journalOf("service-b").AppendAsync(Household, Entry(1, "pay-1", 7m), default));

        Assert.Equal(-5m, (await journalOf("service-a").LoadHeadAsync(Household, default)).Balances["payer:phone-1/CNY"]);
        Assert.Equal(7m, (await journalOf("service-b").FindAsync(Household, "pay-1", default))!.Amount);
    }

    private async Task AssertUnchangedAsync(LedgerHead before, IReadOnlyList<LedgerEntry> entries)
    {
        var after = await NewJournal().LoadHeadAsync(Household, default);
        Assert.Equal(before.LastSequence, after.LastSequence);
        Assert.Equal(before.EntryCount, after.EntryCount);
        Assert.Equal(before.Balances.ToDictionary(), after.Balances.ToDictionary());
        Assert.Equal(entries, await NewJournal().ReadAsync(Household, 0, 100, default));
    }
}

public sealed class MemoryLedgerJournalTests : LedgerJournalContract
{
    private readonly MemoryLedgerJournal _journal = new();

    public override Task InitializeAsync() => Task.CompletedTask;

    public override Task DisposeAsync() => Task.CompletedTask;

    // A memory journal is the hub's singleton: every writer of the hub shares it.
    protected override ILedgerJournal NewJournal() => _journal;
}

public sealed class SqliteLedgerJournalTests : LedgerJournalContract
{
    private SqliteFolder _folder = null!;

    private string _connectionString = null!;

    public override Task InitializeAsync()
    {
        _folder = new SqliteFolder("handoff-ledger-");
        _connectionString = _folder.ConnectionString;
        return Task.CompletedTask;
    }

    public override Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    protected override ILedgerJournal NewJournal() => new SqliteLedgerJournal(_connectionString, "handoff");

    [Fact]
    public Task A_failed_append_leaves_no_entry_and_no_balance_change() =>
        AssertAFailedAppendLeavesNothingAsync(account => ExecuteAsync($"""
            CREATE TRIGGER test_broken BEFORE INSERT ON handoff_ledger_balance
            WHEN NEW.account = '{account}' BEGIN SELECT RAISE(ABORT, 'the test breaks this account'); END;
            """));

    [Fact]
    public Task A_failed_batch_leaves_no_entry_and_no_balance_change() =>
        AssertAFailedBatchLeavesNothingAsync(account => ExecuteAsync($"""
            CREATE TRIGGER test_broken BEFORE INSERT ON handoff_ledger_balance
            WHEN NEW.account = '{account}' BEGIN SELECT RAISE(ABORT, 'the test breaks this account'); END;
            """));

    [Fact]
    public Task Services_do_not_mix() => AssertServicesDoNotMixAsync(service => new SqliteLedgerJournal(_connectionString, service));

    [Fact]
    public async Task A_ledger_stored_by_an_older_hub_moves_into_the_journal_once()
    {
        var tea = Entry(1, "pay-tea", 12.50m);
        var slash = Entry(2, "pay-slash", 0.10m, merchant: "merchant:A/B");
        await ExecuteAsync("PRAGMA user_version = 0;");
        await ExecuteAsync("""
            INSERT INTO handoff_grain_state (service_id, grain_type, grain_n0, grain_n1, grain_key, payload, version, modified_at)
            VALUES ('handoff', 'ledger', 0, 0, $household, $payload, 3, '2026-11-28T12:00:00Z');
            """, ("$household", Household), ("$payload", LegacyPayload(tea, slash)));

        SqliteStore.Ensure(_folder.Directory);
        SqliteStore.Ensure(_folder.Directory);

        var head = await NewJournal().LoadHeadAsync(Household, default);
        Assert.Equal(2, head.LastSequence);
        Assert.Equal(Replay([tea, slash]), head.Balances.ToDictionary());
        Assert.Equal([tea, slash], await NewJournal().ReadAsync(Household, 0, 10, default));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM handoff_grain_state WHERE grain_type = 'ledger';"));
        Assert.Equal(2L, await ScalarAsync("PRAGMA user_version;"));
    }

    [Fact]
    public async Task A_file_of_the_previous_version_opens_keeps_its_rows_and_takes_rows_with_evidence()
    {
        // The journal as the previous version made it: its table without the evidence column, one charge, user_version 1.
        var directory = Directory.CreateTempSubdirectory("handoff-ledger-previous-").FullName;
        try
        {
            var connectionString = SqliteStore.ConnectionString(directory);
            var old = Entry(1, "pay-old", 12.50m);
            await using (var connection = new SqliteConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var create = connection.CreateCommand();
                create.CommandText = """
                    CREATE TABLE handoff_ledger_entry
                    (
                        service_id     TEXT    NOT NULL,
                        household_id   TEXT    NOT NULL,
                        sequence       INTEGER NOT NULL CHECK (sequence > 0),
                        payment_id     TEXT    NOT NULL,
                        debit_account  TEXT    NOT NULL,
                        credit_account TEXT    NOT NULL,
                        amount         TEXT    NOT NULL,
                        currency       TEXT    NOT NULL,
                        charged_at     TEXT    NOT NULL,
                        PRIMARY KEY (service_id, household_id, sequence),
                        UNIQUE (service_id, household_id, payment_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE handoff_ledger_balance
                    (
                        service_id TEXT NOT NULL, household_id TEXT NOT NULL, account TEXT NOT NULL, currency TEXT NOT NULL, balance TEXT NOT NULL,
                        PRIMARY KEY (service_id, household_id, account, currency)
                    ) WITHOUT ROWID;
                    INSERT INTO handoff_ledger_entry VALUES ('handoff', $household, 1, 'pay-old', $payer, $merchant, '12.5', 'CNY', $at);
                    INSERT INTO handoff_ledger_balance VALUES ('handoff', $household, $payer, 'CNY', '-12.5'), ('handoff', $household, $merchant, 'CNY', '12.5');
                    PRAGMA user_version = 1;
                    """;
                create.Parameters.AddWithValue("$household", Household);
                create.Parameters.AddWithValue("$payer", Payer);
                create.Parameters.AddWithValue("$merchant", Merchant);
                create.Parameters.AddWithValue("$at", old.At.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                await create.ExecuteNonQueryAsync();
            }

            SqliteStore.Ensure(directory);
            SqliteStore.Ensure(directory);

            var journal = new SqliteLedgerJournal(connectionString, "handoff");
            Assert.Equal(old, await journal.FindAsync(Household, "pay-old", default));
            var tea = Entry(2, "pay-tea", 3m) with { Evidence = Evidence("pay-tea") };
            Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, tea, default));
            Assert.True(await journal.AppendBatchAsync(Household, [Entry(3, "pay-cake", 4m) with { Evidence = Evidence("pay-cake") }, Entry(4, "pay-pie", 5m)], default));
            var entries = await journal.ReadAsync(Household, 0, 10, default);
            Assert.Equal([old, tea, Entry(3, "pay-cake", 4m) with { Evidence = Evidence("pay-cake") }, Entry(4, "pay-pie", 5m)], entries);
            Assert.Equal(Replay(entries), (await journal.LoadHeadAsync(Household, default)).Balances.ToDictionary());
            await using var check = new SqliteConnection(connectionString);
            await check.OpenAsync();
            await using var version = check.CreateCommand();
            version.CommandText = "PRAGMA user_version;";
            Assert.Equal(2L, await version.ExecuteScalarAsync());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    internal static byte[] LegacyPayload(params LedgerEntry[] entries) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new
            {
                Balances = Replay(entries),
                Charges = entries.ToDictionary(entry => entry.PaymentId),
                LastSequence = entries.Max(entry => entry.Sequence),
            },
            JsonGrainStateSerializer.Options);

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerJournalTests(PostgresServer server) : LedgerJournalContract
{
    private string _connectionString = null!;

    public override async Task InitializeAsync()
    {
        _connectionString = await server.CreateUniqueDatabaseAsync("ledger");
        await PostgresSchema.EnsureAsync(_connectionString, CancellationToken.None);
    }

    public override Task DisposeAsync() => Task.CompletedTask;

    protected override ILedgerJournal NewJournal() => new PostgresLedgerJournal(_connectionString, "handoff");

    [Fact]
    public Task A_failed_append_leaves_no_entry_and_no_balance_change() =>
        AssertAFailedAppendLeavesNothingAsync(account => SchemaTests.ReadAsync(
            _connectionString,
            $"ALTER TABLE handoff_ledger_balance ADD CONSTRAINT test_broken CHECK (account <> '{account}'); SELECT 1",
            reader => reader.GetInt32(0)));

    [Fact]
    public Task A_failed_batch_leaves_no_entry_and_no_balance_change() =>
        AssertAFailedBatchLeavesNothingAsync(account => SchemaTests.ReadAsync(
            _connectionString,
            $"ALTER TABLE handoff_ledger_balance ADD CONSTRAINT test_broken CHECK (account <> '{account}'); SELECT 1",
            reader => reader.GetInt32(0)));

    [Fact]
    public Task Services_do_not_mix() => AssertServicesDoNotMixAsync(service => new PostgresLedgerJournal(_connectionString, service));

    [Fact]
    public async Task A_ledger_stored_before_migration_4_moves_into_the_journal()
    {
        // A database at version 3, as the previous release left it, with one ledger in grain state.
        var database = await DatabaseAtVersionAsync("ledger_upgrade", 3);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var state = new NpgsqlCommand("""
                INSERT INTO orleans_grain_state (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1, grain_id_extension, payload, version)
                VALUES ('handoff', 1, 2, 'ledger', 0, 0, @household, @payload, 3)
                """, connection);
            state.Parameters.AddWithValue("household", Household);
            state.Parameters.AddWithValue("payload", SqliteLedgerJournalTests.LegacyPayload(
                Entry(1, "pay-tea", 12.50m), Entry(2, "pay-slash", 0.10m, merchant: "merchant:A/B")));
            await state.ExecuteNonQueryAsync();
        }

        Assert.Equal(PostgresSchema.LatestVersion, await PostgresSchema.EnsureAsync(database, CancellationToken.None));

        var journal = new PostgresLedgerJournal(database, "handoff");
        var head = await journal.LoadHeadAsync(Household, default);
        LedgerEntry[] expected = [Entry(1, "pay-tea", 12.50m), Entry(2, "pay-slash", 0.10m, merchant: "merchant:A/B")];
        Assert.Equal(2, head.LastSequence);
        Assert.Equal(Replay(expected), head.Balances.ToDictionary());
        Assert.Equal(expected, await journal.ReadAsync(Household, 0, 10, default));
        Assert.Equal(
            [0L],
            await SchemaTests.ReadAsync(database, "SELECT count(*) FROM orleans_grain_state WHERE grain_type = 'ledger'", reader => reader.GetInt64(0)));
        Assert.Equal(AppendResult.PaymentAlreadyCharged, await journal.AppendAsync(Household, Entry(3, "pay-tea", 12.50m), default));
    }

    [Fact]
    public async Task Migration_5_applies_on_a_database_at_4_with_rows_which_it_keeps_and_new_rows_carry_evidence()
    {
        var database = await DatabaseAtVersionAsync("evidence_upgrade", 4);
        var old = Entry(1, "pay-old", 12.50m);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var rows = new NpgsqlCommand("""
                INSERT INTO handoff_ledger_entry (service_id, household_id, sequence, payment_id, debit_account, credit_account, amount, currency, charged_at)
                VALUES ('handoff', @household, 1, 'pay-old', @payer, @merchant, 12.50, 'CNY', @at);
                INSERT INTO handoff_ledger_balance (service_id, household_id, account, currency, balance)
                VALUES ('handoff', @household, @payer, 'CNY', -12.50), ('handoff', @household, @merchant, 'CNY', 12.50);
                """, connection);
            rows.Parameters.AddWithValue("household", Household);
            rows.Parameters.AddWithValue("payer", Payer);
            rows.Parameters.AddWithValue("merchant", Merchant);
            rows.Parameters.AddWithValue("at", old.At.UtcDateTime);
            await rows.ExecuteNonQueryAsync();
        }

        Assert.Equal(5, await PostgresSchema.EnsureAsync(database, CancellationToken.None));

        var journal = new PostgresLedgerJournal(database, "handoff");
        Assert.Equal(old, await journal.FindAsync(Household, "pay-old", default));
        var tea = Entry(2, "pay-tea", 3m) with { Evidence = Evidence("pay-tea") };
        Assert.Equal(AppendResult.Appended, await journal.AppendAsync(Household, tea, default));
        LedgerEntry[] batch = [Entry(3, "pay-cake", 4m) with { Evidence = Evidence("pay-cake") }, Entry(4, "pay-pie", 5m)];
        Assert.True(await journal.AppendBatchAsync(Household, batch, default));
        LedgerEntry[] all = [old, tea, .. batch];
        Assert.Equal(all, await journal.ReadAsync(Household, 0, 10, default));
        Assert.Equal(Replay(all), (await journal.LoadHeadAsync(Household, default)).Balances.ToDictionary());
        Assert.Equal(
            [(5, "0005_ledger_evidence.sql")],
            await SchemaTests.ReadAsync(database, "SELECT version, name FROM handoff_schema_version WHERE version = 5", reader => (reader.GetInt32(0), reader.GetString(1))));
    }

    /// <summary>A new database with the migrations up to <paramref name="version"/> applied, as the release that had those left it.</summary>
    private async Task<string> DatabaseAtVersionAsync(string name, int version)
    {
        var database = await server.CreateUniqueDatabaseAsync(name);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var table = new NpgsqlCommand(
            "CREATE TABLE handoff_schema_version (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            connection);
        await table.ExecuteNonQueryAsync();
        foreach (var migration in PostgresSchema.Migrations.Where(migration => migration.Version <= version))
        {
            await using var apply = new NpgsqlCommand(migration.Sql, connection);
            await apply.ExecuteNonQueryAsync();
            await using var record = new NpgsqlCommand("INSERT INTO handoff_schema_version (version, name, checksum) VALUES (@v, @n, @c)", connection);
            record.Parameters.AddWithValue("v", migration.Version);
            record.Parameters.AddWithValue("n", migration.Name);
            record.Parameters.AddWithValue("c", migration.Checksum);
            await record.ExecuteNonQueryAsync();
        }

        return database;
    }
}
