namespace Handoff.Contracts;

/// <summary>
/// What the target app asks to be paid: amount, currency, who is paid and, optionally, the line items
/// shown on the sheet (W3C <c>displayItems</c>), which must add up to the amount, and the category of what is bought
/// (<c>games</c>, say), which a member's rules may send to a guardian.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentInfo")]
public sealed record PaymentInfo(
    [property: Id(0)] decimal Amount,
    [property: Id(1)] string Currency,
    [property: Id(2)] string Merchant,
    [property: Id(3)] string? Description = null,
    [property: Id(4)] IReadOnlyList<PaymentLine>? Items = null,
    [property: Id(5)] string? Category = null)
{
    /// <summary>Same payment terms: amounts compared as numbers, items in order.</summary>
    public bool SameTermsAs(PaymentInfo other) =>
        Amount == other.Amount
        && Currency == other.Currency
        && Merchant == other.Merchant
        && Description == other.Description
        && Category == other.Category
        && (Items ?? []).SequenceEqual(other.Items ?? []);
}

/// <summary>One line of the sheet: a label and its amount (negative for a discount).</summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentLine")]
public sealed record PaymentLine([property: Id(0)] string Label, [property: Id(1)] decimal Amount);

/// <summary>
/// A request, from an initiator device, that a payer device pays. <paramref name="PayerDeviceId"/> is whom it asks, as
/// <see cref="PayerChoice"/> reads it: one device, several separated by commas, or <c>any</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentRequestInput")]
public sealed record PaymentRequestInput(
    [property: Id(0)] string HouseholdId,
    [property: Id(1)] string InitiatorDeviceId,
    [property: Id(2)] string PayerDeviceId,
    [property: Id(3)] string OrderKey,
    [property: Id(4)] PaymentInfo Info,
    [property: Id(5)] TimeSpan? ExpiresIn = null,
    [property: Id(6)] byte[]? Signature = null);

/// <summary>One recorded move of the state machine.</summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentTransition")]
public sealed record PaymentTransition(
    [property: Id(0)] PaymentState From,
    [property: Id(1)] PaymentState To,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string Device,
    [property: Id(4)] string Cause);

/// <summary>
/// The whole of one payment as the authority holds it; <see cref="Version"/> grows with each transition.
/// <paramref name="PayerDeviceId"/> is whom the request asked (<see cref="PayerChoice"/>), <paramref name="Payers"/>
/// the devices it was offered to, and <paramref name="Payer"/> the one that approved, once one has.
/// <paramref name="AskedBy"/> is the person whose device asked, <paramref name="Rule"/> the household rule that
/// applied to a member's request, and <paramref name="Approval"/> the guardian's approval of one, once given.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentSnapshot")]
public sealed record PaymentSnapshot(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] PaymentState State,
    [property: Id(2)] string HouseholdId,
    [property: Id(3)] string InitiatorDeviceId,
    [property: Id(4)] string PayerDeviceId,
    [property: Id(5)] string OrderKey,
    [property: Id(6)] PaymentInfo Info,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] DateTimeOffset Deadline,
    [property: Id(9)] string? FailureReason,
    [property: Id(10)] IReadOnlyList<PaymentTransition> History,
    [property: Id(11)] IReadOnlyList<string> Payers,
    [property: Id(12)] string? Payer,
    [property: Id(13)] IReadOnlyList<PaymentRefund> Refunds,
    [property: Id(14)] string? Program = null,
    [property: Id(15)] PersonRef? AskedBy = null,
    [property: Id(16)] PaymentRule? Rule = null,
    [property: Id(17)] GuardianApproval? Approval = null)
{
    public int Version => History.Count;

    /// <summary>What the refunds booked so far gave back.</summary>
    public decimal Refunded => Refunds.Where(refund => refund.Booked).Sum(refund => refund.Amount);

    public bool IsTerminal => State.IsTerminal();

    /// <summary>The guardian who approved a member's request, once one has (null for a payer's own approval).</summary>
    public PersonRef? ApprovedBy => Approval?.Guardian;

    /// <summary>A member's request over a rule that its guardians have not decided yet.</summary>
    public bool AwaitsGuardian => Rule is { NeedsGuardian: true } && State.AwaitsVerification();

    /// <summary>The payment as it stood after its first <paramref name="version"/> transitions.</summary>
    public PaymentSnapshot AsOf(int version)
    {
        if (version == Version)
        {
            return this;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, Version);
        var state = History[version - 1].To;
        return this with
        {
            State = state,
            FailureReason = state.IsTerminal() ? FailureReason : null,
            History = [.. History.Take(version)],
            Payer = History.Take(version).Any(step => step.To == PaymentState.Authorized) ? Payer : null,
            Program = History.Take(version).Any(step => step.To == PaymentState.Authorized) ? Program : null,
            Approval = History.Take(version).Any(step => step.To == PaymentState.Authorized) ? Approval : null,
        };
    }
}

/// <summary>
/// The initiator's request to give back part or all of a completed payment: <paramref name="Amount"/> null gives back
/// all that is left. The same <paramref name="RefundKey"/> again is the same refund; with another amount, a conflict.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.RefundInput")]
public sealed record RefundInput(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string InitiatorDeviceId,
    [property: Id(2)] string RefundKey,
    [property: Id(3)] decimal? Amount,
    [property: Id(4)] byte[]? Signature = null);

/// <summary>
/// One refund of a payment: its key, the amount given back (<paramref name="Requested"/> null when it asked for all
/// that was left), when it was asked, and its ledger entry once booked (<see cref="Booked"/>). The payment's authority
/// keeps with it the initiator's signed refund (<paramref name="Evidence"/>), which its ledger entry carries; a snapshot
/// leaves it out.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentRefund")]
public sealed record PaymentRefund(
    [property: Id(0)] string Key,
    [property: Id(1)] decimal Amount,
    [property: Id(2)] decimal? Requested,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] long? Sequence = null,
    [property: Id(5)] ChargeEvidence? Evidence = null)
{
    public bool Booked => Sequence is not null;
}

/// <summary>
/// What a payer device is asked to show and verify: <paramref name="PayerDeviceId"/> is that device, one of the
/// request's <paramref name="Candidates"/> (every device it was offered to). A member's request carries who asked,
/// the rule that applied and, for a guardian to approve, <paramref name="RequestDigest"/>: the SHA-256 of the member's
/// signed request (<see cref="Security.Signing.RequestDigest"/>), which the guardian's approval names.
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentOffer")]
public sealed record PaymentOffer(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string HouseholdId,
    [property: Id(2)] string InitiatorDeviceId,
    [property: Id(3)] string InitiatorName,
    [property: Id(4)] string PayerDeviceId,
    [property: Id(5)] PaymentInfo Info,
    [property: Id(6)] DateTimeOffset Deadline,
    [property: Id(7)] string Nonce,
    [property: Id(8)] IReadOnlyList<string> Candidates,
    [property: Id(9)] PersonRef? AskedBy = null,
    [property: Id(10)] PaymentRule? Rule = null,
    [property: Id(11)] string? RequestDigest = null);

/// <summary>
/// The payer device's statement that its person verified this exact transaction; a biometric approval also carries
/// the platform authenticator's assertion over it (<see cref="Security.Signing.ApprovalChallenge"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.PaymentApproval")]
public sealed record PaymentApproval(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string PayerDeviceId,
    [property: Id(2)] string Nonce,
    [property: Id(3)] AuthMethod Method,
    [property: Id(4)] DateTimeOffset VerifiedAt,
    [property: Id(5)] byte[]? Signature = null,
    [property: Id(6)] WebAuthnAssertion? Assertion = null,
    [property: Id(7)] string? ProgramId = null);

/// <summary>The outcome of one verification attempt on the payer device.</summary>
[GenerateSerializer, Alias("handoff.VerificationOutcome")]
public enum VerificationOutcome
{
    Approved = 0,
    WrongPin = 1,
    Declined = 2,
    NotPending = 3,
    Locked = 4,

    /// <summary>Declined by the device itself: the person entered too many wrong PINs.</summary>
    TooManyWrongPins = 5,
}

/// <summary>The answer to a PIN or biometric attempt, with the payment as it then stands.</summary>
[GenerateSerializer, Immutable, Alias("handoff.VerificationResult")]
public sealed record VerificationResult(
    [property: Id(0)] VerificationOutcome Outcome,
    [property: Id(1)] int TriesLeft,
    [property: Id(2)] PaymentSnapshot? Payment,
    [property: Id(3)] DateTimeOffset? LockedUntil = null);
