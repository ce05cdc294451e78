using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains;

/// <summary>The durable state of one payment; it moves only by the transitions its lifecycle decides.</summary>
[GenerateSerializer, Alias("handoff.PaymentRecord")]
public sealed class PaymentRecord
{
    [Id(0)]
    public PaymentRequestInput? Input { get; set; }

    [Id(1)]
    public PaymentState State { get; set; }

    [Id(2)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(3)]
    public DateTimeOffset Deadline { get; set; }

    [Id(4)]
    public string Nonce { get; set; } = string.Empty;

    [Id(5)]
    public string? FailureReason { get; set; }

    [Id(6)]
    public List<PaymentTransition> History { get; set; } = [];

    [Id(7)]
    public string InitiatorName { get; set; } = string.Empty;

    /// <summary>The payer devices the payment is offered to: those the request named, or for <c>any</c> those online.</summary>
    [Id(8)]
    public List<string> Candidates { get; set; } = [];

    /// <summary>The refunds asked of this payment, booked or still being booked, in the order asked.</summary>
    [Id(9)]
    public List<PaymentRefund> Refunds { get; set; } = [];

    /// <summary>The payment program the winning approval chose; null when its device pays from its own account.</summary>
    [Id(10)]
    public ProgramFunding? Funding { get; set; }

    /// <summary>The person whose device asked (null: a device that is nobody's, or a record of an earlier version).</summary>
    [Id(11)]
    public PersonRef? AskedBy { get; set; }

    /// <summary>The household rule that applied to a member's request: within budget, or which rule sent it to the guardians.</summary>
    [Id(12)]
    public PaymentRule? Rule { get; set; }

    /// <summary>The guardian's signed approval of a member's request, once one won.</summary>
    [Id(13)]
    public GuardianApproval? Approval { get; set; }

    /// <summary>The initiator's public key its request was verified with, for the charge's evidence (null: a record of an earlier version).</summary>
    [Id(14)]
    public byte[]? InitiatorKey { get; set; }

    /// <summary>
    /// The signed statements that authorized the charge, as the authority verified them when the approval won: the charge
    /// carries them to the ledger, the same ones whenever it is asked again (null: none kept, a record of an earlier version).
    /// </summary>
    [Id(15)]
    public ChargeEvidence? Evidence { get; set; }

    public bool Exists => Input is not null;

    /// <summary>The devices offered the payment (a record of an earlier version named exactly one).</summary>
    public IReadOnlyList<string> Payers => Candidates.Count > 0 || Input is null ? Candidates : [Input.PayerDeviceId];

    /// <summary>The payer device whose verified approval won, once one has.</summary>
    public string? Payer => History.FirstOrDefault(step => step.To == PaymentState.Authorized)?.Device;

    /// <summary>The ledger account that pays (and gets refunds): the chosen program's, or the payer device's own.</summary>
    public string? PayerAccount => Funding?.Account ?? (Payer is { } payer ? LedgerAccounts.PayerAccount(payer) : null);

    /// <summary>Records what a <see cref="Payments.PaymentLifecycle"/> decided: its transitions and its refunds.</summary>
    public void Apply(Payments.PaymentDecision decision)
    {
        Apply(decision.Transitions);
        if (decision.Refunds is { } refunds)
        {
            Refunds = [.. refunds];
        }

        if (decision.Funding is { } funding)
        {
            Funding = funding;
        }

        if (decision.Approval is { } approval)
        {
            Approval = approval;
        }

        if (decision.Evidence is { } evidence)
        {
            Evidence = evidence;
        }
    }

    /// <summary>Records the transitions a <see cref="Payments.PaymentLifecycle"/> decided, each from the state it left.</summary>
    public void Apply(IEnumerable<PaymentTransition> transitions)
    {
        foreach (var step in transitions)
        {
            if (step.From != State || !PaymentStates.CanMove(State, step.To))
            {
                throw new InvalidOperationException($"transition {step.From} -> {step.To} does not follow state {State}");
            }

            History.Add(step);
            State = step.To;
            if (step.To.IsUnpaid())
            {
                FailureReason = step.Cause;
            }
        }
    }

    public PaymentSnapshot ToSnapshot(string paymentId)
    {
        var input = Input ?? throw new NotFoundException($"payment '{paymentId}' does not exist");
        return new PaymentSnapshot(
            paymentId,
            State,
            input.HouseholdId,
            input.InitiatorDeviceId,
            input.PayerDeviceId,
            input.OrderKey,
            input.Info,
            CreatedAt,
            Deadline,
            FailureReason,
            [.. History],
            Payers,
            Payer,
            [.. Refunds.Select(refund => refund.Evidence is null ? refund : refund with { Evidence = null })],
            Funding?.ProgramId,
            AskedBy,
            Rule,
            Approval);
    }

    /// <summary>The transaction as payer device <paramref name="device"/>, one of <see cref="Payers"/>, shows and signs it.</summary>
    public PaymentOffer ToOffer(string paymentId, string device)
    {
        var input = Input!;
        return new PaymentOffer(paymentId, input.HouseholdId, input.InitiatorDeviceId, InitiatorName, device, input.Info, Deadline, Nonce, Payers)
        {
            AskedBy = AskedBy,
            Rule = Rule,
            RequestDigest = Rule is { NeedsGuardian: true } ? Signing.RequestDigest(input) : null,
        };
    }

    /// <summary>True when <paramref name="other"/> asks for the same payment as the recorded one.</summary>
    public bool SameRequestAs(PaymentRequestInput other) =>
        Input is { } input
        && input.HouseholdId == other.HouseholdId
        && input.InitiatorDeviceId == other.InitiatorDeviceId
        && input.PayerDeviceId == other.PayerDeviceId
        && input.OrderKey == other.OrderKey
        && input.Info.SameTermsAs(other.Info);
}
