using Handoff.Contracts;
using Handoff.Contracts.Validation;

namespace Handoff.Grains.Rules;

/// <summary>What a member's rules must be before the household keeps them; each refusal names its field.</summary>
internal static class RulesInput
{
    private const int MaxBudgets = 8;
    private const int MaxListed = 32;

    /// <summary>The rules as kept: currencies in upper case, each budget's program one of <paramref name="programs"/> in its currency, lists without repeats.</summary>
    public static MemberRules Check(MemberRules rules, IReadOnlyList<ProgramStatus> programs, string householdId) => rules with
    {
        Budgets = RequireBudgets(rules.Budgets ?? [], programs, householdId),
        GuardianMerchants = RequireList(rules.GuardianMerchants, "guardianMerchants", merchant => PaymentRules.RequireText(merchant, "guardianMerchants", PaymentRules.MaxMerchantLength)),
        GuardianCategories = RequireList(rules.GuardianCategories, "guardianCategories", category => DeviceIds.Require(category, "guardianCategories")),
    };

    private static IReadOnlyList<MemberBudget> RequireBudgets(IReadOnlyList<MemberBudget> budgets, IReadOnlyList<ProgramStatus> programs, string householdId)
    {
        if (budgets.Count > MaxBudgets)
        {
            throw new ValidationException("budgets", $"a member has at most {MaxBudgets} budgets", ErrorCodes.LimitExceeded);
        }

        var checkedBudgets = new List<MemberBudget>();
        foreach (var budget in budgets)
        {
            var currency = PaymentRules.RequireCurrency(budget.Currency, "currency");
            if (budget.Monthly <= 0 || budget.Ceiling <= 0)
            {
                throw new ValidationException(budget.Monthly <= 0 ? "budget" : "ceiling", "must be greater than zero", ErrorCodes.NonPositiveAmount);
            }

            PaymentRules.RequireDigits(budget.Monthly, currency, "budget");
            PaymentRules.RequireDigits(budget.Ceiling ?? 0, currency, "ceiling");
            DeviceIds.Require(budget.ProgramId, "from");
            var program = programs.FirstOrDefault(status => status.Program.Id == budget.ProgramId)
                ?? throw new NotFoundException($"no payment program '{budget.ProgramId}' in household '{householdId}'");
            if (program.Program.Currency != currency || checkedBudgets.Any(other => other.Currency == currency))
            {
                throw new ValidationException("currency", program.Program.Currency != currency ? $"program '{program.Program.Id}' pays in {program.Program.Currency}, not {currency}" : $"one budget per currency: {currency} is given twice", ErrorCodes.InvalidCurrency);
            }

            checkedBudgets.Add(budget with { Currency = currency });
        }

        return checkedBudgets;
    }

    private static IReadOnlyList<string> RequireList(IReadOnlyList<string>? values, string field, Action<string> check)
    {
        var list = values ?? [];
        if (list.Count > MaxListed)
        {
            throw new ValidationException(field, $"at most {MaxListed}", ErrorCodes.LimitExceeded);
        }

        foreach (var value in list)
        {
            check(value);
        }

        return [.. list.Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}
