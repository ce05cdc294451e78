using Handoff.Contracts;

namespace Handoff.Grains.Rules;

/// <summary>
/// The money side of a household's rules: each member's budget is the ledger account <c>budget:MEMBER</c>, refilled
/// once a month (in the household's time zone) from its program up to the month's budget, and read from the ledger.
/// </summary>
internal sealed class MemberBudgets(IGrainFactory grains, string householdId, IPersistentState<RulesRecord> record, TimeProvider time)
{
    private ILedgerGrain Ledger => grains.GetGrain<ILedgerGrain>(householdId);

    /// <summary>This month in the household's time zone, as <c>2026-12</c>.</summary>
    public string Month =>
        TimeZoneInfo.ConvertTime(time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById(record.State.TimeZone)).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What is left of a budget this month, once its refill for this month is booked.</summary>
    public async Task<decimal> LeftAsync(string memberId, MemberBudget budget)
    {
        await RefillAsync(memberId, budget);
        var balances = (await Ledger.GetSummaryAsync()).Balances;
        return balances.GetValueOrDefault(LedgerAccounts.BalanceKey(LedgerAccounts.BudgetAccount(memberId), budget.Currency));
    }

    /// <summary>
    /// Books this month's refill of a budget, up to its monthly amount, from its program: once, whatever crashes or
    /// restarts come between. The ledger books the reference once; the record says it was done (or not needed), so a
    /// budget spent later in the month is not refilled again. A program with too little left refills nothing, yet.
    /// </summary>
    private async Task RefillAsync(string memberId, MemberBudget budget)
    {
        var month = Month;
        if (record.State.Refills.Any(refill => refill.MemberId == memberId && refill.Currency == budget.Currency && refill.Month == month))
        {
            return;
        }

        var reference = LedgerAccounts.RefillReference(memberId, budget.Currency, month);
        if (await Ledger.GetChargeAsync(reference) is null)
        {
            var account = LedgerAccounts.BudgetAccount(memberId);
            var balance = (await Ledger.GetSummaryAsync()).Balances.GetValueOrDefault(LedgerAccounts.BalanceKey(account, budget.Currency));
            if (budget.Monthly > balance)
            {
                var programs = await grains.GetGrain<IPaymentProgramsGrain>(householdId).ListAsync(null);
                if (programs.FirstOrDefault(status => status.Program.Id == budget.ProgramId) is not { } source)
                {
                    return;
                }

                try
                {
                    await Ledger.ChargeAsync(new ChargeRequest(reference, LedgerAccounts.ProgramAccount(source.Program.Id), account, budget.Monthly - balance, budget.Currency, source.Program.Floor, ChargeEvidence.Refill));
                }
                catch (InsufficientFundsException)
                {
                    return;
                }
            }
        }

        record.State.Refills.Add(new BudgetRefill(memberId, budget.Currency, month, budget.Monthly));
        await record.WriteStateAsync();
    }
}
