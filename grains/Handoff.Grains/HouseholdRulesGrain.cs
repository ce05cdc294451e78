using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Handoff.Grains.Payments;
using Handoff.Grains.Rules;

namespace Handoff.Grains;

/// <summary>Durable rules of a household: its members' rules, its time zone, and the budget refills booked.</summary>
[GenerateSerializer, Alias("handoff.RulesRecord")]
public sealed class RulesRecord
{
    [Id(0)]
    public List<MemberRules> Members { get; set; } = [];

    /// <summary>The IANA time zone whose midnight on the 1st starts a budget's month.</summary>
    [Id(1)]
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Each refill, once booked (or found not needed): one per member, currency and month, with the budget it filled to.</summary>
    [Id(2)]
    public List<BudgetRefill> Refills { get; set; } = [];
}

/// <summary>A month's refill of a member's budget in one currency, up to <paramref name="Monthly"/>: what the ledger check holds spending to.</summary>
[GenerateSerializer, Immutable, Alias("handoff.BudgetRefill")]
public sealed record BudgetRefill(
    [property: Id(0)] string MemberId,
    [property: Id(1)] string Currency,
    [property: Id(2)] string Month,
    [property: Id(3)] decimal Monthly);

/// <summary>
/// The household's rules and its members' budgets. A budget is the ledger account <c>budget:MEMBER</c>: on the first
/// request, read or payment of a month (in the household's time zone) it is refilled from its program up to the
/// month's budget, booked in the ledger once per month under its own reference, and a member paying alone is charged
/// from it like from any program. Only the administrator changes rules; only the payment's authority asks for a decision.
/// </summary>
public sealed class HouseholdRulesGrain(
    [PersistentState("rules", HandoffOptions.StorageName)] IPersistentState<RulesRecord> record,
    AdminToken admin,
    TimeProvider time) : Grain, IHouseholdRulesGrain
{
    private MemberBudgets _budgets = null!;

    private string HouseholdId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _budgets = new MemberBudgets(GrainFactory, HouseholdId, record, time);
        return Task.CompletedTask;
    }

    public Task<HouseholdRules> GetAsync() => Task.FromResult(
        new HouseholdRules(record.State.TimeZone, CallerContext.MayAccess(HouseholdId) ? [.. record.State.Members.OrderBy(rules => rules.MemberId, StringComparer.Ordinal)] : []));

    public async Task<IReadOnlyList<BudgetStatus>> ListBudgetsAsync(string? memberId)
    {
        if (!CallerContext.MayAccess(HouseholdId))
        {
            return [];
        }

        var statuses = new List<BudgetStatus>();
        foreach (var rules in record.State.Members.Where(rules => memberId is null || rules.MemberId == memberId).OrderBy(rules => rules.MemberId, StringComparer.Ordinal))
        {
            foreach (var budget in rules.Budgets)
            {
                statuses.Add(new BudgetStatus(rules.MemberId, budget, await _budgets.LeftAsync(rules.MemberId, budget), _budgets.Month));
            }
        }

        return statuses;
    }

    public async Task<MemberRules> SetAsync(string adminToken, MemberRules rules)
    {
        admin.Require(adminToken);
        ArgumentNullException.ThrowIfNull(rules);
        var members = await GrainFactory.GetGrain<IHouseholdMembersGrain>(HouseholdId).ListAsync();
        DeviceIds.Require(rules.MemberId, "member");
        if (members.All(member => member.Id != rules.MemberId))
        {
            throw new NotFoundException($"no member '{rules.MemberId}' in household '{HouseholdId}'");
        }

        var programs = await GrainFactory.GetGrain<IPaymentProgramsGrain>(HouseholdId).ListAsync(null);
        var checkedRules = RulesInput.Check(rules, programs, HouseholdId);
        record.State.Members.RemoveAll(known => known.MemberId == rules.MemberId);
        record.State.Members.Add(checkedRules);
        await record.WriteStateAsync();
        return checkedRules;
    }

    public async Task<string> SetTimeZoneAsync(string adminToken, string timeZone)
    {
        admin.Require(adminToken);
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone ?? string.Empty, out var zone))
        {
            throw new ValidationException("timeZone", $"'{timeZone}' is not a time zone such as Asia/Shanghai or UTC", ErrorCodes.Validation);
        }

        record.State.TimeZone = zone.Id;
        await record.WriteStateAsync();
        return zone.Id;
    }

    public async Task<RuleDecision> DecideAsync(HouseholdMember asker, PaymentInfo info, IReadOnlyList<string> candidates)
    {
        var askedBy = new PersonRef(asker.Id, asker.Name);
        var rules = Rules(asker.Id);
        var budget = rules.Budgets.FirstOrDefault(budget => budget.Currency == info.Currency);
        var left = budget is null ? (decimal?)null : await _budgets.LeftAsync(asker.Id, budget);
        var verdict = RuleCheck.Judge(rules, asker.Name, info, left);
        if (verdict.Code == RuleCode.WithinBudget)
        {
            var own = candidates.Where(asker.Devices.Contains).ToList();
            if (own.Count > 0)
            {
                return new RuleDecision(askedBy, new PaymentRule(verdict.Code, verdict.Text, verdict.LeftAfter, []), own);
            }

            verdict = RuleCheck.NotOwnDevice(asker.Name);
        }

        var members = await GrainFactory.GetGrain<IHouseholdMembersGrain>(HouseholdId).ListAsync();
        var payers = (await GrainFactory.GetGrain<IHouseholdGrain>(HouseholdId).ListDevicesAsync())
            .Where(device => device.Role == DeviceRole.Payer && device.Capabilities.CanPay)
            .Select(device => device.DeviceId)
            .ToHashSet(StringComparer.Ordinal);
        var guardians = members.Where(member => member.Role == MemberRole.Guardian && member.Devices.Any(payers.Contains)).ToList();
        if (!rules.AskGuardians || guardians.Count == 0)
        {
            throw RuleCheck.Refusal(asker.Id, verdict, left, info.Currency, rules.AskGuardians ? "no guardian has a payer device to ask" : $"{asker.Name}'s rules ask no guardian");
        }

        var devices = guardians.SelectMany(guardian => guardian.Devices).Where(payers.Contains).Order(StringComparer.Ordinal).ToList();
        return new RuleDecision(askedBy, new PaymentRule(verdict.Code, verdict.Text, null, [.. guardians.Select(guardian => new PersonRef(guardian.Id, guardian.Name))]), devices);
    }

    public async Task<ProgramFunding> FundAsync(string memberId, decimal amount, string currency)
    {
        var budget = Rules(memberId).Budgets.FirstOrDefault(budget => budget.Currency == currency)
            ?? throw new NotAllowedException(memberId, $"not allowed: member '{memberId}' has no budget in {currency}");
        var left = await _budgets.LeftAsync(memberId, budget);
        if (amount > left)
        {
            throw new BudgetExceededException(memberId, Math.Max(left, 0), currency, $"budget exceeded: {DisplayText.Money(Math.Max(left, 0), currency)} left of {DisplayText.Money(budget.Monthly, currency)} this month");
        }

        var account = LedgerAccounts.BudgetAccount(memberId);
        return new ProgramFunding(account, account, 0m);
    }

    public async Task<PersonRef?> GuardianOfAsync(string deviceId)
    {
        var members = await GrainFactory.GetGrain<IHouseholdMembersGrain>(HouseholdId).ListAsync();
        return members.FirstOrDefault(member => member.Role == MemberRole.Guardian && member.Devices.Contains(deviceId)) is { } guardian
            ? new PersonRef(guardian.Id, guardian.Name)
            : null;
    }

    private MemberRules Rules(string memberId) => record.State.Members.FirstOrDefault(rules => rules.MemberId == memberId) ?? MemberRules.None(memberId);
}
