using Handoff.Contracts;

namespace Handoff.Grains;

/// <summary>Durable journal and balances of one household's ledger.</summary>
[GenerateSerializer, Alias("handoff.LedgerRecord")]
public sealed class LedgerRecord
{
    [Id(0)]
    public Dictionary<string, decimal> Balances { get; set; } = [];

    [Id(1)]
    public Dictionary<string, LedgerEntry> Charges { get; set; } = [];

    [Id(2)]
    public long LastSequence { get; set; }
}

/// <summary>
/// Double-entry ledger of one household. A charge is keyed by payment id: asking twice returns the
/// first entry and moves no money, so a retried or replayed charge can never pay twice.
/// </summary>
public sealed class LedgerGrain(
    [PersistentState("ledger", HandoffOptions.StorageName)] IPersistentState<LedgerRecord> record,
    TimeProvider time,
    FaultPoints faults) : Grain, ILedgerGrain
{
    public async Task<LedgerEntry> ChargeAsync(ChargeRequest charge)
    {
        if (record.State.Charges.TryGetValue(charge.PaymentId, out var existing))
        {
            return existing.Amount == charge.Amount
                && existing.Currency == charge.Currency
                && existing.DebitAccount == charge.PayerAccount
                && existing.CreditAccount == charge.MerchantAccount
                ? existing
                : throw new ConflictException($"payment '{charge.PaymentId}' was already charged with other terms");
        }

        if (charge.Amount <= 0)
        {
            throw new ValidationException("amount", "a charge must be positive");
        }

        var entry = new LedgerEntry(
            record.State.LastSequence + 1,
            charge.PaymentId,
            charge.PayerAccount,
            charge.MerchantAccount,
            charge.Amount,
            charge.Currency,
            time.GetUtcNow());
        await faults.ReachedAsync(FaultPoints.ChargeInFlight);
        Post(entry.DebitAccount, entry.Currency, -entry.Amount);
        Post(entry.CreditAccount, entry.Currency, entry.Amount);
        record.State.Charges[entry.PaymentId] = entry;
        record.State.LastSequence = entry.Sequence;
        try
        {
            await record.WriteStateAsync();
        }
        catch
        {
            // Memory now holds a charge the store may not: start over from the store.
            DeactivateOnIdle();
            throw;
        }

        return entry;
    }

    public Task<LedgerEntry?> GetChargeAsync(string paymentId) =>
        Task.FromResult(record.State.Charges.GetValueOrDefault(paymentId));

    public Task<LedgerSnapshot> GetSnapshotAsync() =>
        Task.FromResult(new LedgerSnapshot(
            new Dictionary<string, decimal>(record.State.Balances),
            [.. record.State.Charges.Values.OrderBy(entry => entry.Sequence)]));

    private void Post(string account, string currency, decimal amount)
    {
        var key = LedgerSnapshot.BalanceKey(account, currency);
        record.State.Balances[key] = record.State.Balances.GetValueOrDefault(key) + amount;
    }
}
