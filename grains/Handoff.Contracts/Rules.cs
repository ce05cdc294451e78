using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>
/// What a member may spend alone in one currency each month: <paramref name="Monthly"/> refills the member's budget
/// account (<see cref="LedgerAccounts.BudgetAccount"/>) from program <paramref name="ProgramId"/> (the family wallet, say)
/// on the first of each month, and no single payment may be over <paramref name="Ceiling"/> when one is set.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.MemberBudget")]
public sealed record MemberBudget(
    [property: Id(0)] string Currency,
    [property: Id(1)] decimal Monthly,
    [property: Id(2)] string ProgramId,
    [property: Id(3)] decimal? Ceiling = null);

/// <summary>
/// A member's rules, kept by the household and checked by the payment's authority: the budgets they may pay alone
/// from, the merchants and categories that always need a guardian, and whether a request over a rule goes to the
/// guardians (<paramref name="AskGuardians"/>) or is refused (<c>budget_exceeded</c>, <c>not_allowed</c>). A member
/// without rules has no budget: every request of theirs needs a guardian.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.MemberRules")]
public sealed record MemberRules(
    [property: Id(0)] string MemberId,
    [property: Id(1)] IReadOnlyList<MemberBudget> Budgets,
    [property: Id(2)] IReadOnlyList<string> GuardianMerchants,
    [property: Id(3)] IReadOnlyList<string> GuardianCategories,
    [property: Id(4)] bool AskGuardians = true)
{
    /// <summary>The rules of a member nobody set any for: no budget, so a guardian decides every request.</summary>
    public static MemberRules None(string memberId) => new(memberId, [], [], []);
}

/// <summary>The household's rules: its time zone (months start at its midnight) and each member's rules.</summary>
[GenerateSerializer, Immutable, Alias("handoff.HouseholdRules")]
public sealed record HouseholdRules(
    [property: Id(0)] string TimeZone,
    [property: Id(1)] IReadOnlyList<MemberRules> Members);

/// <summary>What is left of a member's budget this month (<paramref name="Month"/>, <c>2026-12</c>, in the household's time zone).</summary>
[GenerateSerializer, Immutable, Alias("handoff.BudgetStatus")]
public sealed record BudgetStatus(
    [property: Id(0)] string MemberId,
    [property: Id(1)] MemberBudget Budget,
    [property: Id(2)] decimal Left,
    [property: Id(3)] string Month);

/// <summary>A person of the household as a payment names them: who asked, who approved.</summary>
[GenerateSerializer, Immutable, Alias("handoff.PersonRef")]
public sealed record PersonRef(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name);

/// <summary>Which of a member's rules decided a request of theirs.</summary>
[GenerateSerializer, Alias("handoff.RuleCode")]
public enum RuleCode
{
    /// <summary>Within the month's budget: the member pays alone, from the budget.</summary>
    WithinBudget = 0,

    /// <summary>More than is left of the month's budget.</summary>
    OverBudget = 1,

    /// <summary>More than the member's ceiling for one payment.</summary>
    OverCeiling = 2,

    /// <summary>A merchant that always needs a guardian.</summary>
    GuardianMerchant = 3,

    /// <summary>A category that always needs a guardian.</summary>
    GuardianCategory = 4,

    /// <summary>The member has no budget in the payment's currency.</summary>
    NoBudget = 5,

    /// <summary>Within budget, but none of the devices asked to pay is the member's own.</summary>
    NotOwnDevice = 6,
}

/// <summary>
/// The rule that applied to a member's request: <paramref name="Text"/> says it as the pages do;
/// <paramref name="BudgetLeftAfter"/> is what the budget keeps after this payment (within budget only);
/// <paramref name="Guardians"/> are the guardians asked (over a rule only).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentRule")]
public sealed record PaymentRule(
    [property: Id(0)] RuleCode Code,
    [property: Id(1)] string Text,
    [property: Id(2)] decimal? BudgetLeftAfter,
    [property: Id(3)] IReadOnlyList<PersonRef> Guardians)
{
    /// <summary>True when a guardian decides the request; false when the member pays alone from their budget.</summary>
    public bool NeedsGuardian => Code != RuleCode.WithinBudget;
}

/// <summary>
/// The household's answer to a new request, for its authority: who asked (null: a device that is nobody's), the rule
/// that applied (null: no rules apply, the asker is a guardian or nobody), and the payer devices to offer it to.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.RuleDecision")]
public sealed record RuleDecision(
    [property: Id(0)] PersonRef? AskedBy,
    [property: Id(1)] PaymentRule? Rule,
    [property: Id(2)] IReadOnlyList<string> Candidates);

/// <summary>
/// A guardian's approval of a member's request, as the payment keeps it: the guardian, the device that signed, how the
/// guardian verified, the program that paid, and the device's signature over
/// <see cref="Signing.GuardianApproval"/>, a statement that names the member's request.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.GuardianApproval")]
public sealed record GuardianApproval(
    [property: Id(0)] PersonRef Guardian,
    [property: Id(1)] string DeviceId,
    [property: Id(2)] AuthMethod Method,
    [property: Id(3)] string? ProgramId,
    [property: Id(4)] DateTimeOffset At,
    [property: Id(5)] byte[] Signature);

/// <summary>
/// The household's rules (key: household id): budgets, guardian merchants and categories per member, and its time zone.
/// Reading is for the household's devices; changing them is the administrator's alone (the hub's admin token), so no
/// member's device can change its own rules. The payment's authority asks it to decide each request of a member.
/// </summary>
[Alias("handoff.IHouseholdRulesGrain")]
public interface IHouseholdRulesGrain : IGrainWithStringKey
{
    /// <summary>Every member's rules and the household's time zone (nothing for a caller of another household).</summary>
    [Alias("Get")]
    Task<HouseholdRules> GetAsync();

    /// <summary>What is left of each budget this month (only <paramref name="memberId"/>'s when given); a refill that is due is booked first.</summary>
    [Alias("Budgets")]
    Task<IReadOnlyList<BudgetStatus>> ListBudgetsAsync(string? memberId);

    /// <summary>Sets a member's rules (admin), replacing what they had; each budget's program must pay in its currency.</summary>
    [Alias("Set"), NoSession]
    Task<MemberRules> SetAsync(string adminToken, MemberRules rules);

    /// <summary>Sets the household's time zone (admin; an IANA id such as <c>Asia/Shanghai</c>): budgets refill at its midnight on the 1st.</summary>
    [Alias("SetTimeZone"), NoSession]
    Task<string> SetTimeZoneAsync(string adminToken, string timeZone);

    /// <summary>
    /// Decides a new request of member <paramref name="asker"/> (not a guardian: the payment's authority found them the
    /// owner of the asking device) for its authority: which rule applies and whom to offer it: their own devices among
    /// <paramref name="candidates"/> within budget, else every guardian's payer devices, else <c>budget_exceeded</c> or
    /// <c>not_allowed</c>.
    /// </summary>
    [Alias("Decide"), AuthorityOnly]
    Task<RuleDecision> DecideAsync(HouseholdMember asker, PaymentInfo info, IReadOnlyList<string> candidates);

    /// <summary>
    /// The budget account that pays a member's approved payment, once this month's refill is booked and at least
    /// <paramref name="amount"/> is left (else <c>budget_exceeded</c>); the ledger checks the floor again as it books.
    /// </summary>
    [Alias("Fund"), AuthorityOnly]
    Task<ProgramFunding> FundAsync(string memberId, decimal amount, string currency);

    /// <summary>The guardian who owns <paramref name="deviceId"/> now, or null when its owner is no guardian.</summary>
    [Alias("GuardianOf"), AuthorityOnly]
    Task<PersonRef?> GuardianOfAsync(string deviceId);
}
