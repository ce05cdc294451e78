using Handoff.Contracts;
using Handoff.Contracts.Validation;

namespace Handoff.Grains.Payments;

/// <summary>What one member's rules say of one request: the rule that applies, said as the pages say it.</summary>
public sealed record RuleVerdict(RuleCode Code, string Text, decimal? LeftAfter);

/// <summary>
/// A member's rules applied to a request, as a pure function: which rule decides it, and what a refusal is when the
/// member's rules ask no guardian. The order is the household's: a guardian merchant or category first (whatever the
/// amount), then a budget in the payment's currency, its ceiling for one payment, and what is left of it this month.
/// </summary>
public static class RuleCheck
{
    /// <summary>
    /// The verdict on <paramref name="info"/> for a member named <paramref name="name"/> with <paramref name="rules"/>;
    /// <paramref name="left"/> is what is left of their budget in the payment's currency this month (null: none).
    /// </summary>
    public static RuleVerdict Judge(MemberRules rules, string name, PaymentInfo info, decimal? left)
    {
        if (rules.GuardianMerchants.Contains(info.Merchant, StringComparer.OrdinalIgnoreCase))
        {
            return new(RuleCode.GuardianMerchant, $"{info.Merchant} always needs a guardian", null);
        }

        if (info.Category is { } category && rules.GuardianCategories.Contains(category, StringComparer.OrdinalIgnoreCase))
        {
            return new(RuleCode.GuardianCategory, $"category {category} always needs a guardian", null);
        }

        var money = (decimal amount) => DisplayText.Money(amount, info.Currency);
        if (rules.Budgets.FirstOrDefault(budget => budget.Currency == info.Currency) is not { } budget || left is not { } budgetLeft)
        {
            return new(RuleCode.NoBudget, $"{name} has no budget in {info.Currency}", null);
        }

        if (budget.Ceiling is { } ceiling && info.Amount > ceiling)
        {
            return new(RuleCode.OverCeiling, $"over {name}'s ceiling of {money(ceiling)} per payment", null);
        }

        return info.Amount > budgetLeft
            ? new(RuleCode.OverBudget, $"over {name}'s budget: {money(Math.Max(budgetLeft, 0))} left of {money(budget.Monthly)} this month", null)
            : new(RuleCode.WithinBudget, $"within {name}'s budget: {money(budgetLeft - info.Amount)} left after this payment", budgetLeft - info.Amount);
    }

    /// <summary>Within budget, but the member asked none of their own payer devices to pay: a guardian decides.</summary>
    public static RuleVerdict NotOwnDevice(string name) => new(RuleCode.NotOwnDevice, $"none of the devices asked to pay is {name}'s", null);

    /// <summary>
    /// The error of a request over a rule when no guardian is asked: over a budget or a ceiling is
    /// <c>budget_exceeded</c>, anything else <c>not_allowed</c>.
    /// </summary>
    public static HandoffException Refusal(string memberId, RuleVerdict verdict, decimal? left, string currency, string why) =>
        verdict.Code is RuleCode.OverBudget or RuleCode.OverCeiling
            ? new BudgetExceededException(memberId, Math.Max(left ?? 0, 0), currency, $"budget exceeded: {verdict.Text}; {why}")
            : new NotAllowedException(memberId, $"not allowed: {verdict.Text}; {why}");
}
