using Handoff.Contracts;

namespace Handoff.Grains.Tests;

/// <summary>
/// The ledger grain on the hub's SQLite journal: one entry per payment id, whether the charge is asked
/// again of the same activation or of a new one that knows only the store; the journal read in pages.
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
        var ledger = household.Cluster.Client.GetGrain<ILedgerGrain>(householdId);
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
    public async Task Concurrent_charges_of_one_payment_make_one_entry()
    {
        var householdId = NewHousehold();
        var ledger = household.Cluster.Client.GetGrain<ILedgerGrain>(householdId);
        var charge = new ChargeRequest("pay-once", Payer, Merchant, 3m, "EUR");

        var entries = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ledger.ChargeAsync(charge)));

        Assert.Single(entries.Distinct());
        var view = await household.LedgerAsync(householdId);
        Assert.Single(view.Entries);
        Assert.Equal(-3m, view.Balances[LedgerAccounts.BalanceKey(Payer, "EUR")]);
    }

    [Fact]
    public async Task The_journal_is_read_in_pages_in_entry_order()
    {
        var householdId = NewHousehold();
        var ledger = household.Cluster.Client.GetGrain<ILedgerGrain>(householdId);
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
        var ledger = household.Cluster.Client.GetGrain<ILedgerGrain>(NewHousehold());

        var error = await Assert.ThrowsAsync<ValidationException>(() => ledger.GetEntriesAsync(afterSequence, limit));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task A_charge_that_is_not_positive_is_refused_and_moves_nothing()
    {
        var householdId = NewHousehold();
        var ledger = household.Cluster.Client.GetGrain<ILedgerGrain>(householdId);

        var error = await Assert.ThrowsAsync<ValidationException>(() => ledger.ChargeAsync(new ChargeRequest("pay-zero", Payer, Merchant, 0m, "EUR")));

        Assert.Equal("amount", error.Field);
        var summary = await ledger.GetSummaryAsync();
        Assert.Equal(0, summary.EntryCount);
        Assert.Empty(summary.Balances);
        Assert.Null(await ledger.GetChargeAsync("pay-zero"));
    }

    private static string NewHousehold() => "ledger-" + Guid.NewGuid().ToString("n")[..12];
}
