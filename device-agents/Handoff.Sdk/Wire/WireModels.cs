using System.Text.Json;
using System.Text.Json.Serialization;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Contracts.Validation;

namespace Handoff.Sdk.Wire;

/// <summary>The JSON shapes the CLI and the agents' HTTP APIs speak; keep them stable.</summary>
public static class HandoffJson
{
    public static JsonSerializerOptions Options { get; } = Create(indented: false);

    public static JsonSerializerOptions Indented { get; } = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented) => new(JsonSerializerDefaults.Web)
    {
        WriteIndented = indented,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

/// <summary>A device as <c>handoff devices</c> and the agents report it; <c>owner</c> is the name of the person it belongs to, if any.</summary>
public sealed record DeviceView(
    string Id,
    string DisplayName,
    string Kind,
    string Role,
    string Household,
    CapabilitiesView Capabilities,
    bool Online,
    string? Owner = null)
{
    public static DeviceView From(DeviceStatus device) => From(device, null);

    /// <summary>The device with the name of the member it belongs to (see <see cref="OwnerOf"/>).</summary>
    public static DeviceView From(DeviceStatus device, IReadOnlyList<HouseholdMember>? members) => new(
        device.DeviceId,
        device.DisplayName,
        device.Kind.ToString().ToLowerInvariant(),
        device.Role.ToString().ToLowerInvariant(),
        device.HouseholdId,
        new CapabilitiesView(
            device.Capabilities.CanPay,
            device.Capabilities.DistributedScheduling,
            [.. device.Capabilities.AuthMethods.Select(method => method.ToString().ToLowerInvariant())]),
        device.Online,
        members is null ? null : OwnerOf(members, device.DeviceId)?.Name);

    /// <summary>The person a device belongs to, or null when the household has given it to no one.</summary>
    public static HouseholdMember? OwnerOf(IReadOnlyList<HouseholdMember> members, string deviceId) =>
        members.FirstOrDefault(member => member.Devices.Contains(deviceId));
}

public sealed record CapabilitiesView(bool CanPay, bool DistributedScheduling, IReadOnlyList<string> AuthMethods);

/// <summary>A payment as <c>handoff pay</c> and <c>handoff status</c> report it.</summary>
/// <param name="Payer">The payer device that approved, once one has.</param>
/// <param name="Payers">The payer devices the payment was offered to.</param>
/// <param name="AskedFor">Whom the request asked: a device, several (comma-separated) or <c>any</c>.</param>
/// <param name="Program">The payment program the approving device paid with (null: its own device account, or not approved yet).</param>
/// <param name="AskedBy">The person whose device asked (null: a device that is nobody's).</param>
/// <param name="ApprovedBy">The guardian who approved a member's request, once one has.</param>
/// <param name="Rule">The household rule that applied to a member's request (null: no rule applies).</param>
/// <param name="AwaitsGuardian">A guardian is still to decide (the member's device says it waits, and for whom).</param>
public sealed record PaymentView(
    string PaymentId,
    string State,
    string? Payer,
    IReadOnlyList<string> Payers,
    string AskedFor,
    string? Program,
    string Initiator,
    decimal Amount,
    string Currency,
    string AmountText,
    string Merchant,
    string? Description,
    string OrderKey,
    DateTimeOffset CreatedAt,
    DateTimeOffset Deadline,
    string DeadlineText,
    string? FailureReason,
    IReadOnlyList<TransitionView> History,
    string MatchCode,
    bool Terminal,
    bool Unpaid,
    bool Cancellable,
    bool Refundable,
    decimal Refunded,
    string RefundedText,
    IReadOnlyList<RefundView> Refunds,
    PersonView? AskedBy,
    PersonView? ApprovedBy,
    RuleView? Rule,
    bool AwaitsGuardian)
{
    public static PaymentView From(PaymentSnapshot payment) => new(
        payment.PaymentId,
        payment.State.ToString(),
        payment.Payer,
        payment.Payers,
        payment.PayerDeviceId,
        payment.Program,
        payment.InitiatorDeviceId,
        payment.Info.Amount,
        payment.Info.Currency,
        DisplayText.Money(payment.Info.Amount, payment.Info.Currency),
        payment.Info.Merchant,
        payment.Info.Description,
        payment.OrderKey,
        payment.CreatedAt,
        payment.Deadline,
        DisplayText.Time(payment.Deadline),
        payment.FailureReason,
        [.. payment.History.Select(step => new TransitionView(step.From.ToString(), step.To.ToString(), step.At, DisplayText.Time(step.At), step.Device, step.Cause))],
        Signing.MatchCode(payment),
        payment.State.IsTerminal(),
        payment.State.IsUnpaid(),
        payment.State.IsCancellable(),
        payment.State.IsRefundable(),
        payment.Refunded,
        DisplayText.Money(payment.Refunded, payment.Info.Currency),
        [.. payment.Refunds.Select(refund => RefundView.From(refund, payment.Info.Currency))],
        PersonView.From(payment.AskedBy),
        PersonView.From(payment.ApprovedBy),
        RuleView.From(payment.Rule, payment.Info.Currency),
        payment.AwaitsGuardian);
}

/// <summary>A person of the household as a payment names them.</summary>
public sealed record PersonView(string Id, string Name)
{
    public static PersonView? From(PersonRef? person) => person is null ? null : new(person.Id, person.Name);
}

/// <summary>
/// The household rule that applied to a member's request: <c>code</c> (<c>withinBudget</c>, <c>overBudget</c>,
/// <c>overCeiling</c>, <c>guardianMerchant</c>, <c>guardianCategory</c>, <c>noBudget</c>, <c>notOwnDevice</c>), the
/// text every surface shows, whether a guardian decides, what the budget keeps after a payment made alone, and the
/// guardians asked.
/// </summary>
public sealed record RuleView(string Code, string Text, bool NeedsGuardian, decimal? BudgetLeftAfter, string? BudgetLeftAfterText, IReadOnlyList<PersonView> Guardians)
{
    public static RuleView? From(PaymentRule? rule, string currency) => rule is null ? null : new(
        JsonNamingPolicy.CamelCase.ConvertName(rule.Code.ToString()),
        rule.Text,
        rule.NeedsGuardian,
        rule.BudgetLeftAfter,
        rule.BudgetLeftAfter is { } left ? DisplayText.Money(left, currency) : null,
        [.. rule.Guardians.Select(guardian => PersonView.From(guardian)!)]);
}

/// <summary>One refund of a payment: <c>id</c> is its refund key; <c>booked</c> once the ledger holds it.</summary>
public sealed record RefundView(string Id, decimal Amount, string AmountText, DateTimeOffset At, string AtText, bool Booked, long? LedgerEntry)
{
    public static RefundView From(PaymentRefund refund, string currency) => new(
        refund.Key,
        refund.Amount,
        DisplayText.Money(refund.Amount, currency),
        refund.At,
        DisplayText.Time(refund.At),
        refund.Booked,
        refund.Sequence);
}

/// <summary>One step of a payment; <c>atText</c> is its time as every surface shows it.</summary>
public sealed record TransitionView(string From, string To, DateTimeOffset At, string AtText, string Device, string Cause);

/// <summary>An offer on a payer device's sheet.</summary>
public sealed record OfferView(
    string PaymentId,
    string Device,
    string Initiator,
    string InitiatorName,
    decimal Amount,
    string Currency,
    string AmountText,
    string Merchant,
    string? Description,
    DateTimeOffset Deadline,
    string MatchCode,
    PersonView? AskedBy,
    RuleView? Rule)
{
    public static OfferView From(PaymentOffer offer) => new(
        offer.PaymentId,
        offer.PayerDeviceId,
        offer.InitiatorDeviceId,
        offer.InitiatorName,
        offer.Info.Amount,
        offer.Info.Currency,
        DisplayText.Money(offer.Info.Amount, offer.Info.Currency),
        offer.Info.Merchant,
        offer.Info.Description,
        offer.Deadline,
        Signing.MatchCode(offer),
        PersonView.From(offer.AskedBy),
        RuleView.From(offer.Rule, offer.Info.Currency));
}

/// <summary>The answer of a payer agent to a PIN or a decline.</summary>
public sealed record VerificationView(string Outcome, int TriesLeft, PaymentView? Payment, DateTimeOffset? LockedUntil = null, string? LockedUntilText = null)
{
    public static VerificationView From(VerificationResult result) => new(
        JsonNamingPolicy.CamelCase.ConvertName(result.Outcome.ToString()),
        result.TriesLeft,
        result.Payment is null ? null : PaymentView.From(result.Payment),
        result.LockedUntil,
        result.LockedUntil is { } until ? DisplayText.Time(until) : null);
}

/// <summary>The body of a payer agent's approve call: the PIN, and the payment program that pays (none: the device's default).</summary>
public sealed record ApproveBody(string Pin, string? Program = null);

/// <summary>A payment program as <c>handoff programs</c> and the payer pages show it.</summary>
public sealed record ProgramView(string Id, string Device, string Name, string Kind, string Currency, decimal Balance, decimal Limit, decimal Left, string LeftText, bool LastUsed)
{
    public static ProgramView From(ProgramStatus status) => new(
        status.Program.Id,
        status.Program.DeviceId,
        status.Program.Name,
        JsonNamingPolicy.CamelCase.ConvertName(status.Program.Kind.ToString()),
        status.Program.Currency,
        status.Balance,
        status.Program.Limit,
        status.Left,
        Handoff.Contracts.Validation.DisplayText.Money(status.Left, status.Program.Currency),
        status.LastUsed);
}

/// <summary>A person of the household as JSON: <c>id, name, role</c> (guardian or member) and <c>devices</c>.</summary>
public sealed record MemberView(string Id, string Name, string Role, IReadOnlyList<string> Devices)
{
    public static MemberView From(HouseholdMember member) =>
        new(member.Id, member.Name, JsonNamingPolicy.CamelCase.ConvertName(member.Role.ToString()), member.Devices);
}

/// <summary>
/// The household's rules as <c>handoff rules</c> gives them: its time zone and, per member, the budgets (with what is
/// left this month), the merchants and categories that always need a guardian, and whether guardians are asked.
/// </summary>
public sealed record RulesView(string TimeZone, IReadOnlyList<MemberRulesView> Members)
{
    public static RulesView From(HouseholdRules rules, IReadOnlyList<BudgetStatus> budgets) =>
        new(rules.TimeZone, [.. rules.Members.Select(member => MemberRulesView.From(member, budgets))]);
}

/// <summary>One member's rules: <c>askGuardians</c> false means a request over a rule is refused (<c>budget_exceeded</c>, <c>not_allowed</c>).</summary>
public sealed record MemberRulesView(string Member, IReadOnlyList<BudgetView> Budgets, IReadOnlyList<string> GuardianMerchants, IReadOnlyList<string> GuardianCategories, bool AskGuardians)
{
    public static MemberRulesView From(MemberRules rules, IReadOnlyList<BudgetStatus> budgets) => new(
        rules.MemberId,
        [.. rules.Budgets.Select(budget => BudgetView.Of(budget, budgets.FirstOrDefault(status => status.MemberId == rules.MemberId && status.Budget.Currency == budget.Currency)))],
        rules.GuardianMerchants,
        rules.GuardianCategories,
        rules.AskGuardians);
}

/// <summary>A member's budget in one currency: <c>monthly</c> from program <c>from</c>, a <c>ceiling</c> per payment, and what is <c>left</c> in <c>month</c>.</summary>
public sealed record BudgetView(string Currency, decimal Monthly, string MonthlyText, string From, decimal? Ceiling, string? CeilingText, decimal? Left, string? LeftText, string? Month)
{
    public static BudgetView Of(MemberBudget budget, BudgetStatus? status) => new(
        budget.Currency,
        budget.Monthly,
        DisplayText.Money(budget.Monthly, budget.Currency),
        budget.ProgramId,
        budget.Ceiling,
        budget.Ceiling is { } ceiling ? DisplayText.Money(ceiling, budget.Currency) : null,
        status?.Left,
        status is null ? null : DisplayText.Money(status.Left, budget.Currency),
        status?.Month);
}

/// <summary>The body of an initiator agent's refund call: the amount (none: all that is left) and the refund key (none: a new refund).</summary>
public sealed record RefundBody(decimal? Amount, string? Key);

/// <summary>The body of an initiator agent's pay call.</summary>
public sealed record PayBody(string Payer, decimal Amount, string Currency, string Merchant, string? Description, string? OrderKey, int? ExpiresInSeconds);

/// <summary><c>{"error": {"code", "message", "field"?}}</c>; <c>field</c> names the input at fault, when one is.</summary>
public sealed record ErrorView(ErrorDetail Error)
{
    public static ErrorView Of(string code, string message, string? field = null) => new(new ErrorDetail(code, message, field));
}

public sealed record ErrorDetail(
    string Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null);
