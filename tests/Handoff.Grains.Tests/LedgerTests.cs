using System.Security.Cryptography;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Tests;

/// <summary>
/// The ledger grain on the hub's SQLite journal: one entry per payment id, whether the charge is asked
/// again of the same activation, of a new one that knows only the store, or many times at once among
/// other concurrent charges (stored in batches); the journal read in pages.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class LedgerTests(HouseholdCluster household)
{
    private static readonly string Payer = LedgerAccounts.PayerAccount("phone-1");
    private static readonly string Merchant = LedgerAccounts.MerchantAccount("Tea House");

    [Fact]
    public async Task A_payment_is_charged_once_by_one_activation_and_by_the_next()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var tea = new ChargeRequest("pay-tea", Payer, Merchant, 12.50m, "CNY");

        var first = await ledger.ChargeAsync(tea);
        var again = await ledger.ChargeAsync(tea);
        await Assert.ThrowsAsync<ConflictException>(() => ledger.ChargeAsync(tea with { Amount = 13m }));

        Assert.Equal(1, first.Sequence);
        Assert.Equal(first, again);

        // A new activation knows only the store: the store's unique payment id answers, with the first entry.
        await household.DeactivateAsync(ledger);
        Assert.Equal(first, await ledger.ChargeAsync(tea));
        await Assert.ThrowsAsync<ConflictException>(() => ledger.ChargeAsync(tea with { MerchantAccount = LedgerAccounts.MerchantAccount("Elsewhere") }));
        await household.DeactivateAsync(ledger);
        Assert.Equal(first, await ledger.GetChargeAsync("pay-tea"));
        Assert.Null(await ledger.GetChargeAsync("pay-never"));

        var cake = await ledger.ChargeAsync(new ChargeRequest("pay-cake", Payer, Merchant, 7.25m, "CNY"));
        Assert.Equal(2, cake.Sequence);

        await household.DeactivateAsync(ledger);
        var view = await household.LedgerAsync(householdId);
        Assert.Equal([first, cake], view.Entries);
        Assert.Equal(2, view.Summary.EntryCount);
        Assert.Equal(2, view.Summary.LastSequence);
        Assert.Equal(-19.75m, view.Balances[LedgerAccounts.BalanceKey(Payer, "CNY")]);
        Assert.Equal(19.75m, view.Balances[LedgerAccounts.BalanceKey(Merchant, "CNY")]);
        Assert.Equal(2, view.Balances.Count);
    }

    [Fact]
    public async Task A_retried_charge_with_its_evidence_gets_the_first_entry_and_other_evidence_is_a_conflict()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var evidence = Evidence("tv-1", "phone-1");
        var tea = new ChargeRequest("pay-tea", Payer, Merchant, 12.50m, "CNY", Evidence: evidence);

        var first = await ledger.ChargeAsync(tea);

        // A retry after a restart carries the evidence its payment kept: other arrays, the same bytes.
        var kept = tea with { Evidence = ChargeEvidence.Of([.. evidence.Signed.Select(signed => new SignedStatement(signed.DeviceId, [.. signed.Statement], [.. signed.Signature], [.. signed.PublicKey]))]) };
        var forged = tea with { Evidence = Evidence("tv-1", "watch-1") };
        Assert.Equal(evidence, first.Evidence);
        Assert.Equal(first, await ledger.ChargeAsync(kept));
        await Assert.ThrowsAsync<ConflictException>(() => ledger.ChargeAsync(forged));

        // The next activation knows only the store: the entry read back carries the same evidence, and decides the same.
        await household.DeactivateAsync(ledger);
        Assert.Equal(first, await ledger.ChargeAsync(kept));
        await household.DeactivateAsync(ledger);
        await Assert.ThrowsAsync<ConflictException>(() => ledger.ChargeAsync(forged));
        Assert.Equal(evidence, (await ledger.GetChargeAsync("pay-tea"))!.Evidence);

        // A charge of an earlier version claims no evidence, and an entry it stored none: their money decides.
        Assert.Equal(first, await ledger.ChargeAsync(tea with { Evidence = null }));
        var older = await ledger.ChargeAsync(new ChargeRequest("pay-older", Payer, Merchant, 1m, "CNY"));
        Assert.Equal(older, await ledger.ChargeAsync(new ChargeRequest("pay-older", Payer, Merchant, 1m, "CNY", Evidence: evidence)));
        Assert.Null(older.Evidence);
        Assert.Equal(2, (await household.LedgerAsync(householdId)).Entries.Count);
    }

    [Fact]
    public async Task Concurrent_charges_of_one_payment_make_one_entry()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var charge = new ChargeRequest("pay-once", Payer, Merchant, 3m, "EUR");

        var entries = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ledger.ChargeAsync(charge)));

        Assert.Single(entries.Distinct());
        var view = await household.LedgerAsync(householdId);
        Assert.Single(view.Entries);
        Assert.Equal(-3m, view.Balances[LedgerAccounts.BalanceKey(Payer, "EUR")]);
    }

    [Fact]
    public async Task Many_concurrent_charges_each_land_once_numbered_from_one_with_money_conserved()
    {
        const int Charges = 200;
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var charges = Enumerable.Range(1, Charges)
            .Select(i => new ChargeRequest(
                $"pay-{i}",
                LedgerAccounts.PayerAccount($"phone-{i % 3}"),
                LedgerAccounts.MerchantAccount($"shop-{i % 5}"),
                i / 100m,
                i % 2 == 0 ? "EUR" : "CNY"))
            .ToArray();

        var entries = await Task.WhenAll(charges.Select(ledger.ChargeAsync));

        // Every caller got its own charge as an entry, and the entries are numbered 1..n, each number once.
        Assert.All(charges.Zip(entries), pair => Assert.Equal(Terms(pair.First), Terms(pair.Second)));
        Assert.Equal(Enumerable.Range(1, Charges).Select(i => (long)i), entries.Select(entry => entry.Sequence).Order());
        var view = await household.LedgerAsync(householdId);
        Assert.Equal(entries.OrderBy(entry => entry.Sequence), view.Entries);
        Assert.Equal(Charges, view.Summary.EntryCount);
        Assert.Equal(Charges, view.Summary.LastSequence);
        AssertConserved(view);
        Assert.Equal(-charges.Where(charge => charge.Currency == "EUR").Sum(charge => charge.Amount), view.Balances.Where(pair => pair.Key.StartsWith("payer:", StringComparison.Ordinal) && pair.Key.EndsWith("/EUR", StringComparison.Ordinal)).Sum(pair => pair.Value));

        // The store holds the same head: a new activation loads it.
        await household.DeactivateAsync(ledger);
        var reloaded = await household.LedgerAsync(householdId);
        Assert.Equal(view.Balances.ToDictionary(), reloaded.Balances.ToDictionary());
        Assert.Equal(view.Summary.LastSequence, reloaded.Summary.LastSequence);
        Assert.Equal(view.Entries, reloaded.Entries);
    }

    [Fact]
    public async Task Concurrent_duplicates_among_other_charges_get_the_first_entry_and_move_money_once()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var distinct = Enumerable.Range(1, 40).Select(i => new ChargeRequest($"pay-{i}", Payer, Merchant, i, "CNY")).ToArray();

        // The first five payments are asked five times each, among the others.
        var asks = distinct.Concat(distinct.Take(5).SelectMany(charge => Enumerable.Repeat(charge, 4))).ToArray();
        new Random(7).Shuffle(asks);
        var entries = await Task.WhenAll(asks.Select(ledger.ChargeAsync));

        Assert.All(asks.Zip(entries).GroupBy(pair => pair.First.PaymentId), payment => Assert.Single(payment.Select(pair => pair.Second).Distinct()));
        var view = await household.LedgerAsync(householdId);
        Assert.Equal(40, view.Entries.Count);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), view.Entries.Select(entry => entry.Sequence));
        Assert.Equal(entries.Distinct().OrderBy(entry => entry.Sequence), view.Entries);
        Assert.Equal(-820m, view.Balances[LedgerAccounts.BalanceKey(Payer, "CNY")]);
        AssertConserved(view);
    }

    [Fact]
    public async Task The_same_payment_with_other_terms_among_concurrent_charges_is_a_conflict()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var tea = new ChargeRequest("pay-tea", Payer, Merchant, 12.50m, "CNY");
        ChargeRequest[] teas = [tea, tea with { Amount = 99m }, tea, tea with { Currency = "EUR" }, tea, tea with { MerchantAccount = LedgerAccounts.MerchantAccount("Elsewhere") }];
        var others = Enumerable.Range(1, 30).Select(i => new ChargeRequest($"pay-{i}", Payer, Merchant, 1m, "CNY"));
        var asks = teas.Concat(others).ToArray();
        new Random(11).Shuffle(asks);

        var outcomes = await Task.WhenAll(asks.Select(async charge =>
        {
            try
            {
                return (Charge: charge, Entry: (LedgerEntry?)await ledger.ChargeAsync(charge), Error: (Exception?)null);
            }
            catch (ConflictException conflict)
            {
                return (Charge: charge, Entry: null, Error: conflict);
            }
        }));

        // Whichever terms came first were charged, once; every ask with other terms is a conflict.
        var charged = await ledger.GetChargeAsync("pay-tea");
        Assert.NotNull(charged);
        Assert.All(outcomes, outcome =>
        {
            if (outcome.Charge.PaymentId == tea.PaymentId && Terms(outcome.Charge) != Terms(charged))
            {
                Assert.IsType<ConflictException>(outcome.Error);
            }
            else
            {
                Assert.Null(outcome.Error);
                Assert.Equal(Terms(outcome.Charge), Terms(outcome.Entry!));
            }
        });
        Assert.All(outcomes.Where(outcome => outcome.Entry?.PaymentId == tea.PaymentId), outcome => Assert.Equal(charged, outcome.Entry));
        var view = await household.LedgerAsync(householdId);
        Assert.Equal(31, view.Entries.Count);
        Assert.Equal(Enumerable.Range(1, 31).Select(i => (long)i), view.Entries.Select(entry => entry.Sequence));
        Assert.Single(view.Entries, entry => entry.PaymentId == tea.PaymentId);
        AssertConserved(view);
    }

    [Fact]
    public async Task Concurrent_charges_with_a_payment_only_the_store_knows_are_each_charged_once()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var tea = new ChargeRequest("pay-tea", Payer, Merchant, 12.50m, "CNY");
        var first = await ledger.ChargeAsync(tea);

        // A new activation knows pay-tea only from the store: a batch holding it is refused whole, then charged one by one.
        await household.DeactivateAsync(ledger);
        var fresh = Enumerable.Range(1, 30).Select(i => new ChargeRequest($"pay-{i}", Payer, Merchant, 2m, "CNY")).ToArray();
        var asks = fresh.Append(tea).Append(tea).ToArray();
        new Random(3).Shuffle(asks);
        var conflict = ledger.ChargeAsync(tea with { Amount = 1m });
        var entries = await Task.WhenAll(asks.Select(ledger.ChargeAsync));

        await Assert.ThrowsAsync<ConflictException>(() => conflict);
        Assert.All(asks.Zip(entries).Where(pair => pair.First == tea), pair => Assert.Equal(first, pair.Second));
        var view = await household.LedgerAsync(householdId);
        Assert.Equal(31, view.Entries.Count);
        Assert.Equal(Enumerable.Range(1, 31).Select(i => (long)i), view.Entries.Select(entry => entry.Sequence));
        Assert.Equal(first, view.Entries[0]);
        Assert.Equal(-72.50m, view.Balances[LedgerAccounts.BalanceKey(Payer, "CNY")]);
        AssertConserved(view);
    }

    [Fact]
    public async Task The_journal_is_read_in_pages_in_entry_order()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        for (var i = 1; i <= 5; i++)
        {
            await ledger.ChargeAsync(new ChargeRequest($"pay-{i}", Payer, Merchant, i, "USD"));
        }

        Assert.Equal([1L, 2L], (await ledger.GetEntriesAsync(0, 2)).Select(entry => entry.Sequence));
        Assert.Equal([3L, 4L], (await ledger.GetEntriesAsync(2, 2)).Select(entry => entry.Sequence));
        Assert.Equal(["pay-5"], (await ledger.GetEntriesAsync(4, 2)).Select(entry => entry.PaymentId));
        Assert.Empty(await ledger.GetEntriesAsync(5, 2));

        var paged = await household.LedgerAsync(householdId, pageSize: 2);
        Assert.Equal(paged.Entries, await ledger.GetEntriesAsync(0, ILedgerGrain.MaxPageSize));
        Assert.Equal(15m, paged.Entries.Sum(entry => entry.Amount));
        Assert.Equal(5, paged.Summary.EntryCount);
    }

    [Theory]
    [InlineData(0, 0, "limit")]
    [InlineData(0, -1, "limit")]
    [InlineData(0, ILedgerGrain.MaxPageSize + 1, "limit")]
    [InlineData(-1, 10, "afterSequence")]
    public async Task A_bad_page_is_refused_naming_the_field(long afterSequence, int limit, string field)
    {
        var ledger = household.Authority.GetGrain<ILedgerGrain>(NewHousehold());

        var error = await Assert.ThrowsAsync<ValidationException>(() => ledger.GetEntriesAsync(afterSequence, limit));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task A_charge_that_is_not_positive_is_refused_and_moves_nothing()
    {
        var householdId = NewHousehold();
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);

        var error = await Assert.ThrowsAsync<ValidationException>(() => ledger.ChargeAsync(new ChargeRequest("pay-zero", Payer, Merchant, 0m, "EUR")));

        Assert.Equal("amount", error.Field);
        var summary = await ledger.GetSummaryAsync();
        Assert.Equal(0, summary.EntryCount);
        Assert.Empty(summary.Balances);
        Assert.Null(await ledger.GetChargeAsync("pay-zero"));
    }

    private static string NewHousehold() => "ledger-" + Guid.NewGuid().ToString("n")[..12];

    private static (string PaymentId, string Payer, string Merchant, decimal Amount, string Currency) Terms(ChargeRequest charge) =>
        (charge.PaymentId, charge.PayerAccount, charge.MerchantAccount, charge.Amount, charge.Currency);

    private static (string PaymentId, string Payer, string Merchant, decimal Amount, string Currency) Terms(LedgerEntry entry) =>
        (entry.PaymentId, entry.DebitAccount, entry.CreditAccount, entry.Amount, entry.Currency);

    /// <summary>The balances are exactly the journal's entries added up, and each currency sums to zero.</summary>
    internal static void AssertConserved(LedgerView view)
    {
        var replayed = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var entry in view.Entries)
        {
            var debit = LedgerAccounts.BalanceKey(entry.DebitAccount, entry.Currency);
            var credit = LedgerAccounts.BalanceKey(entry.CreditAccount, entry.Currency);
            replayed[debit] = replayed.GetValueOrDefault(debit) - entry.Amount;
            replayed[credit] = replayed.GetValueOrDefault(credit) + entry.Amount;
        }

        Assert.Equal(replayed, view.Balances.ToDictionary());
        Assert.All(view.Balances.GroupBy(pair => LedgerAccounts.CurrencyOf(pair.Key)), currency => Assert.Equal(0m, currency.Sum(pair => pair.Value)));
    }

    /// <summary>Evidence of a request by <paramref name="initiator"/> approved on <paramref name="payer"/>, signed by keys made for it.</summary>
    private static ChargeEvidence Evidence(string initiator, string payer)
    {
        using var initiatorKey = Signing.NewKey();
        using var payerKey = Signing.NewKey();
        return ChargeEvidence.Of(Signed(initiator, initiatorKey, $"handoff/request/v1\n{initiator}\n"), Signed(payer, payerKey, $"handoff/approval/v3\n{payer}\n"));

        static SignedStatement Signed(string device, ECDsa key, string statement)
        {
            var bytes = Encoding.UTF8.GetBytes(statement);
            return new(device, bytes, key.SignData(bytes, HashAlgorithmName.SHA256), Signing.PublicKeyOf(key));
        }
    }
}
