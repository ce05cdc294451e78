using System.CommandLine;
using System.Globalization;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>
/// <c>handoff rules</c>: what each member may pay alone (a budget per month from a program, a ceiling per payment) and
/// what always needs a guardian; setting them and the household's time zone is the hub's, with its admin token.
/// </summary>
internal static class RuleCommands
{
    public static Command Create()
    {
        var member = new Option<string?>("--member") { Description = "Only this member's rules [default: every member's]" };
        var command = new Command("rules", "List the members' rules: budgets with what is left this month, and what needs a guardian.") { member };
        command.Subcommands.Add(Set());
        command.Subcommands.Add(TimeZone());
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, ClientCommands.CliDevice, cancellation, async (client, output) =>
        {
            var only = parsed.GetValue(member) is { } given ? DeviceIds.Require(given, "member") : null;
            var rules = await client.GetRulesAsync();
            var view = RulesView.From(rules with { Members = [.. rules.Members.Where(rules => only is null || rules.MemberId == only)] }, await client.ListBudgetsAsync(only));
            return output.Result(view, Render);
        }));
        return command;
    }

    private static Command Set()
    {
        var memberArgument = new Argument<string>("member") { Description = "Member id, e.g. bob" };
        var budget = new Option<string?>("--budget") { Description = "What the member may pay alone each month, e.g. 200.00 (with --currency and --from)" };
        var currency = new Option<string?>("--currency") { Description = "The budget's ISO 4217 currency, e.g. CNY" };
        var from = new Option<string?>("--from") { Description = "The program that refills the budget on the 1st, e.g. wallet (the family wallet)" };
        var ceiling = new Option<string?>("--ceiling") { Description = "The most one payment may be, alone, e.g. 120.00" };
        var merchants = new Option<string[]>("--guardian-merchant") { Description = "A merchant that always needs a guardian (repeat for more)", AllowMultipleArgumentsPerToken = false };
        var categories = new Option<string[]>("--guardian-category") { Description = "A category that always needs a guardian, e.g. games (repeat for more)" };
        var noGuardians = new Option<bool>("--no-guardians") { Description = "Refuse a request over a rule (budget_exceeded, not_allowed) instead of asking the guardians" };
        var command = new Command("set", "Set a member's rules (on the hub), replacing what they had; without --budget the member pays nothing alone.")
        {
            memberArgument, budget, currency, from, ceiling, merchants, categories, noGuardians, CliOptions.DataDirectory,
        };
        command.Validators.Add(result =>
        {
            var given = new[] { result.GetValue(budget), result.GetValue(currency), result.GetValue(from) }.Count(value => value is not null);
            if (given is not 0 and not 3 || (given == 0 && result.GetValue(ceiling) is not null))
            {
                result.AddError("a budget needs all of --budget, --currency and --from (and --ceiling only with them)");
            }
        });
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var id = DeviceIds.Require(parsed.GetValue(memberArgument), "member");
            IReadOnlyList<MemberBudget> budgets = parsed.GetValue(budget) is { } amount
                ? [new MemberBudget(
                    PaymentRules.RequireCurrency(parsed.GetValue(currency), "currency"),
                    ClientCommands.ParseAmount(amount, "budget"),
                    DeviceIds.Require(parsed.GetValue(from), "from"),
                    parsed.GetValue(ceiling) is { } most ? ClientCommands.ParseAmount(most, "ceiling") : null)]
                : [];
            var rules = new MemberRules(id, budgets, parsed.GetValue(merchants) ?? [], parsed.GetValue(categories) ?? [], !parsed.GetValue(noGuardians));
            var token = CliOptions.AdminTokenFrom(parsed);
            var set = await client.SetRulesAsync(token, rules);
            var view = MemberRulesView.From(set, await client.AsAdmin(token).ListBudgetsAsync(id));
            return output.Result(view, Describe);
        }));
        return command;
    }

    private static Command TimeZone()
    {
        var zone = new Argument<string>("zone") { Description = "An IANA time zone, e.g. Asia/Shanghai: budgets refill at its midnight on the 1st" };
        var command = new Command("timezone", "Set the household's time zone (on the hub).") { zone, CliOptions.DataDirectory };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var set = await client.SetTimeZoneAsync(CliOptions.AdminTokenFrom(parsed), parsed.GetValue(zone)!);
            return output.Result(new { timeZone = set }, _ => $"household '{client.HouseholdId}' keeps {set} time: budgets refill at its midnight on the 1st");
        }));
        return command;
    }

    private static string Render(RulesView rules)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"time zone {rules.TimeZone}");
        if (rules.Members.Count == 0)
        {
            text.Append("no rules: a member without rules pays nothing alone, a guardian decides (set them with 'handoff rules set MEMBER')");
            return text.ToString();
        }

        foreach (var member in rules.Members)
        {
            text.AppendLine(Describe(member));
        }

        return text.ToString().TrimEnd();
    }

    private static string Describe(MemberRulesView member)
    {
        var text = new StringBuilder(member.Member);
        foreach (var budget in member.Budgets)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  budget {budget.MonthlyText} a month from {budget.From}");
            text.Append(budget.CeilingText is { } ceiling ? $", at most {ceiling} a payment" : string.Empty);
            text.Append(budget.LeftText is { } left ? $"; {left} left in {budget.Month}" : string.Empty);
        }

        if (member.Budgets.Count == 0)
        {
            text.Append("\n  no budget: pays nothing alone");
        }

        if (member.GuardianMerchants.Count + member.GuardianCategories.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  always needs a guardian: {string.Join(", ", member.GuardianMerchants.Concat(member.GuardianCategories.Select(category => $"category {category}")))}");
        }

        text.Append(member.AskGuardians ? "\n  over a rule: the guardians are asked" : "\n  over a rule: refused (no guardian is asked)");
        return text.ToString();
    }
}
