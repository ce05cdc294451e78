using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Payments;

/// <summary>
/// The checks a payment's authority makes before its lifecycle hears a command: the input, the verified caller,
/// the parties and their signatures. Any member of the cluster can call the authority with any arguments, so each
/// public method of the grain passes here first.
/// </summary>
internal sealed class PaymentGuard(IGrainFactory grains, HandoffOptions options, string paymentId)
{
    /// <summary>
    /// Checks a request for a new payment (its fields, its household, its devices and its signature), then has the
    /// household decide it: who asked, the rule that applied to a member, and the payer devices to offer it to (those
    /// named, or for <c>any</c> every capable one online; a member's own within budget, else every guardian's).
    /// </summary>
    public async Task<(DeviceStatus Initiator, RuleDecision Decision)> AcceptNewAsync(PaymentRequestInput input)
    {
        Validation.RequirePayment(input, options);
        if (!CallerContext.MayAccess(input.HouseholdId))
        {
            throw new NotFoundException($"no household '{input.HouseholdId}' for this device");
        }

        RequireCaller(input.InitiatorDeviceId);
        if (PaymentIds.For(input.HouseholdId, input.InitiatorDeviceId, input.OrderKey) != paymentId)
        {
            throw new ValidationException("paymentId", $"'{paymentId}' is not the id of this order key");
        }

        var initiator = await DeviceInHouseholdAsync(input.InitiatorDeviceId, input.HouseholdId, "initiator");
        var candidates = await CandidatesAsync(input);
        if (!Signing.Verify(initiator.PublicKey, Signing.Request(input), input.Signature))
        {
            throw new ForbiddenException($"the request is not signed by initiator '{input.InitiatorDeviceId}'");
        }

        return (initiator, await DecideAsync(input, candidates));
    }

    /// <summary>
    /// Who asked (the owner of the asking device) and, for a member, what their rules say; a request of a guardian, or
    /// of a device that is nobody's, goes to the payers it names as it is. Only a member's request costs the rules' call.
    /// </summary>
    private async Task<RuleDecision> DecideAsync(PaymentRequestInput input, IReadOnlyList<string> candidates)
    {
        var members = await grains.GetGrain<IHouseholdMembersGrain>(input.HouseholdId).ListAsync();
        return members.FirstOrDefault(member => member.Devices.Contains(input.InitiatorDeviceId)) switch
        {
            null => new RuleDecision(null, null, candidates),
            { Role: MemberRole.Guardian } guardian => new RuleDecision(new PersonRef(guardian.Id, guardian.Name), null, candidates),
            var member => await Rules(input.HouseholdId).DecideAsync(member, input.Info, candidates),
        };
    }

    private async Task<IReadOnlyList<string>> CandidatesAsync(PaymentRequestInput input)
    {
        var named = PayerChoice.Named(input.PayerDeviceId);
        if (named.Count == 0)
        {
            var devices = await grains.GetGrain<IHouseholdGrain>(input.HouseholdId).ListDevicesAsync();
            var online = devices
                .Where(device => CanPay(device) && device.Online && device.DeviceId != input.InitiatorDeviceId)
                .Select(device => device.DeviceId)
                .Order(StringComparer.Ordinal)
                .ToList();
            return online.Count > 0 ? online : throw new PayerOfflineException(PayerChoice.Any);
        }

        foreach (var deviceId in named)
        {
            var payer = await DeviceInHouseholdAsync(deviceId, input.HouseholdId, "payer");
            if (!CanPay(payer))
            {
                throw new NotCapableException(payer.DeviceId, $"device '{payer.DeviceId}' cannot pay");
            }
        }

        return named;
    }

    private static bool CanPay(DeviceStatus device) => device.Role == DeviceRole.Payer && device.Capabilities.CanPay;

    /// <summary>The same request again, from its initiator, signed, with the same terms.</summary>
    public async Task RequireSameRequestAsync(PaymentRecord record, PaymentRequestInput input)
    {
        RequireExisting(record);
        RequireCaller(input.InitiatorDeviceId);
        await RequireSignatureAsync(input.InitiatorDeviceId, Signing.Request(input), input.Signature, "request");
        if (!record.SameRequestAs(input))
        {
            throw new ConflictException($"order key '{input.OrderKey}' is already used by payment '{paymentId}' with different content");
        }
    }

    /// <summary>
    /// Checks an approval (the payer's signature over this transaction and the chosen program, and for a biometric one
    /// the WebAuthn assertion) and returns it as the command the lifecycle decides on, with the account that pays when
    /// the payment can still be paid. A payer's program is the programs grain's to check (another device's, another
    /// currency, too little left); a member paying alone pays from their budget, which the rules grain checks; a member's
    /// request that needs a guardian is approved only by a device of a guardian, never the asker, signing a guardian
    /// approval that names the member's request.
    /// </summary>
    public async Task<PaymentCommand.Approve> RequireApprovalAsync(PaymentRecord record, PaymentApproval approval)
    {
        RequirePayer(record, approval.PayerDeviceId);
        if (approval.PaymentId != paymentId || approval.Nonce != record.Nonce)
        {
            throw new ForbiddenException($"approval does not match the transaction of payment '{paymentId}'");
        }

        // The signature and, for a payment that can still be paid, the person's assertion: one call to the device.
        var offer = record.ToOffer(paymentId, approval.PayerDeviceId);
        var ended = record.State.IsTerminal() || record.Payer is not null;
        var assertion = ended || approval.Method != AuthMethod.Biometric
            ? null
            : approval.Assertion ?? throw new ForbiddenException($"the biometric approval of payment '{paymentId}' carries no WebAuthn assertion");
        var statement = Signing.Approval(offer, approval.Method, approval.ProgramId);
        var key = await grains.GetGrain<IDeviceGrain>(approval.PayerDeviceId).VerifyApprovalAsync(statement, approval.Signature, assertion, assertion is null ? null : Signing.ApprovalChallenge(offer, approval.ProgramId))
            ?? throw new ForbiddenException($"the approval for payment '{paymentId}' is not signed by device '{approval.PayerDeviceId}'");
        var approved = new SignedStatement(approval.PayerDeviceId, statement, approval.Signature!, key);
        var approve = new PaymentCommand.Approve(approval.PayerDeviceId, approval.Method, Evidence: EvidenceOf(record, approved));
        if (ended)
        {
            // The lifecycle says how it ended, or where it was paid.
            return approve;
        }

        var input = record.Input!;
        var programs = grains.GetGrain<IPaymentProgramsGrain>(input.HouseholdId);
        switch (record.Rule)
        {
            case { NeedsGuardian: true }:
                var guardian = await Rules(input.HouseholdId).GuardianOfAsync(approval.PayerDeviceId);
                if (guardian is null || guardian.Id == record.AskedBy?.Id)
                {
                    throw new ForbiddenException($"device '{approval.PayerDeviceId}' is not a guardian's: it cannot approve the request of {record.AskedBy?.Name}");
                }

                var funding = await programs.ChooseAsync(approval.PayerDeviceId, approval.ProgramId, input.Info.Amount, input.Info.Currency);
                return approve with { Funding = funding, Guardian = guardian, Signature = approval.Signature };
            case { NeedsGuardian: false } when record.AskedBy is { } member:
                var budget = LedgerAccounts.BudgetAccount(member.Id);
                if (approval.ProgramId != budget)
                {
                    throw new ValidationException("program", $"{member.Name} pays this alone, from their budget: approve with program '{budget}'", ErrorCodes.Validation);
                }

                return approve with { Funding = await Rules(input.HouseholdId).FundAsync(member.Id, input.Info.Amount, input.Info.Currency) };
            default:
                return approve with { Funding = await programs.ChooseAsync(approval.PayerDeviceId, approval.ProgramId, input.Info.Amount, input.Info.Currency) };
        }
    }

    /// <summary>
    /// What authorizes the charge: the initiator's request, signed as it was verified when the payment was created, and the
    /// approval just verified. None for a record of an earlier version, which kept no initiator key.
    /// </summary>
    private static ChargeEvidence? EvidenceOf(PaymentRecord record, SignedStatement approval) =>
        record is { InitiatorKey: { } key, Input: { Signature: { } signature } input }
            ? ChargeEvidence.Of(new SignedStatement(input.InitiatorDeviceId, Signing.Request(input), signature, key), approval)
            : null;

    /// <summary>
    /// Checks a decline signed by a payer device it was offered to; for a member's request that a guardian decides, the
    /// device must still be a guardian's, and the guardian is returned to be named with it.
    /// </summary>
    public async Task<PersonRef?> RequireDeclineAsync(PaymentRecord record, string payerDeviceId, string reason, byte[] signature)
    {
        RequirePayer(record, payerDeviceId);
        await RequireSignatureAsync(payerDeviceId, Signing.Decline(paymentId, payerDeviceId, record.Nonce, reason), signature, "decline");
        if (record.Rule is not { NeedsGuardian: true })
        {
            return null;
        }

        return await Rules(record.Input!.HouseholdId).GuardianOfAsync(payerDeviceId)
            ?? throw new ForbiddenException($"device '{payerDeviceId}' is not a guardian's: it cannot decline the request of {record.AskedBy?.Name}");
    }

    public async Task RequireCancelAsync(PaymentRecord record, string deviceId, byte[] signature)
    {
        var input = RequireExisting(record);
        RequireCaller(deviceId);
        if (deviceId != input.InitiatorDeviceId && !record.Payers.Contains(deviceId))
        {
            throw new ForbiddenException($"device '{deviceId}' is not a party to payment '{paymentId}'");
        }

        await RequireSignatureAsync(deviceId, Signing.Cancel(paymentId, deviceId), signature, "cancellation");
    }

    /// <summary>Only the payment's initiator (the merchant's app) gives money back, signed with its key; returns the refund as signed.</summary>
    public async Task<SignedStatement> RequireRefundAsync(PaymentRecord record, RefundInput refund)
    {
        var input = RequireExisting(record);
        if (refund.PaymentId != paymentId)
        {
            throw new ValidationException("paymentId", $"'{refund.PaymentId}' is not payment '{paymentId}'");
        }

        RequireCaller(refund.InitiatorDeviceId);
        if (refund.InitiatorDeviceId != input.InitiatorDeviceId)
        {
            throw new ForbiddenException($"only initiator '{input.InitiatorDeviceId}' may refund payment '{paymentId}'");
        }

        DeviceIds.Require(refund.RefundKey, "key");
        if (refund.Amount is { } amount)
        {
            if (amount <= 0)
            {
                throw new ValidationException("amount", $"a refund must be positive, not {amount}", ErrorCodes.NonPositiveAmount);
            }

            Handoff.Contracts.Validation.PaymentRules.RequireDigits(amount, input.Info.Currency, "amount");
        }

        return await RequireSignatureAsync(refund.InitiatorDeviceId, Signing.Refund(paymentId, refund.InitiatorDeviceId, refund.RefundKey, refund.Amount), refund.Signature, "refund");
    }

    /// <summary>
    /// The offer with its nonce is for the payer devices' sheets alone: no other device, not even the hub's pages.
    /// Returns the device asking, which the offer is for.
    /// </summary>
    public string RequireOfferReader(PaymentRecord record)
    {
        RequireExisting(record);
        return CallerContext.Device is { } device && record.Payers.Contains(device)
            ? device
            : throw new ForbiddenException($"only payer devices {string.Join(", ", record.Payers)} are shown payment '{paymentId}'");
    }

    /// <summary>The record's request, when it exists and the caller's household may see it.</summary>
    public PaymentRequestInput RequireExisting(PaymentRecord record) =>
        record.Input is { } input && CallerContext.MayAccess(input.HouseholdId)
            ? input
            : throw new NotFoundException($"payment '{paymentId}' does not exist");

    private void RequirePayer(PaymentRecord record, string deviceId)
    {
        RequireCaller(deviceId);
        RequireExisting(record);
        if (!record.Payers.Contains(deviceId))
        {
            throw new ForbiddenException($"device '{deviceId}' is not the payer of payment '{paymentId}'");
        }
    }

    /// <summary>Refuses a call that speaks for <paramref name="deviceId"/> unless its verified caller is that device, or the hub.</summary>
    private static void RequireCaller(string deviceId)
    {
        if (!CallerContext.IsDeviceOrAuthority(deviceId))
        {
            throw new ForbiddenException($"the caller is '{CallerContext.Device}', not device '{deviceId}'");
        }
    }

    /// <summary>Refuses a statement unless the device, still paired, signed exactly these bytes; returns it as signed, with the key that verified it.</summary>
    private async Task<SignedStatement> RequireSignatureAsync(string deviceId, byte[] statement, byte[]? signature, string what)
    {
        var device = await grains.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync();
        return device?.PublicKey is { } key && Signing.Verify(key, statement, signature)
            ? new SignedStatement(deviceId, statement, signature!, key)
            : throw new ForbiddenException($"the {what} for payment '{paymentId}' is not signed by device '{deviceId}'");
    }

    private IHouseholdRulesGrain Rules(string householdId) => grains.GetGrain<IHouseholdRulesGrain>(householdId);

    private async Task<DeviceStatus> DeviceInHouseholdAsync(string deviceId, string householdId, string field)
    {
        var device = await grains.GetGrain<IDeviceGrain>(deviceId).GetStatusAsync();

        // A device of another household is reported exactly like an unknown one: households learn nothing of each other.
        return device is not null && device.HouseholdId == householdId
            ? device
            : throw new NotFoundException($"{field}: no device '{deviceId}' in household '{householdId}'");
    }
}
