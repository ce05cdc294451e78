using System.Collections.Concurrent;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Handoff.Grains.Payer;

/// <summary>
/// The person's verification on the payer device, in the device's own process: what its sheet page, its
/// terminal and <c>handoff approve</c> (through the agent's local API) call. It is not a grain, so nothing in
/// the cluster can reach it: the PIN is checked and the device key signs only here, for an offer the payment's
/// authority put on this device's sheet.
/// </summary>
public sealed partial class PayerVerification(
    PaymentSheetBoard sheet,
    IUserVerifier verifier,
    IDeviceSigner signer,
    DeviceSessions sessions,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    TimeProvider time,
    FaultPoints faults,
    IOptions<HandoffOptions> options,
    ILogger<PayerVerification> logger)
{
    private readonly ConcurrentDictionary<string, int> _wrongPins = new(StringComparer.Ordinal);

    // One attempt at a time per payment: PIN tries are counted in order, and one approval is sent, never two.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new(StringComparer.Ordinal);

    /// <summary>
    /// The person entered <paramref name="pin"/> on the sheet for <paramref name="paymentId"/>, to pay with program
    /// <paramref name="programId"/> (null: the one the device paid with last, or its first in the payment's currency).
    /// </summary>
    public Task<VerificationResult> ApproveWithPinAsync(string paymentId, string pin, string? programId = null)
    {
        // A PIN that cannot be one is refused before any check: it uses up no try.
        if (!PinHash.IsWellFormed(pin))
        {
            throw new ValidationException("pin", $"a PIN is {PinHash.MinLength} to {PinHash.MaxLength} digits", ErrorCodes.Validation);
        }

        return InTurnAsync(paymentId, offer => CheckPinAsync(offer, pin, programId));
    }

    /// <summary>
    /// The device's platform authenticator verified the person for <paramref name="paymentId"/>: its WebAuthn
    /// assertion over the transaction's challenge (<see cref="WebAuthnRequestAsync"/>) goes to the payment's
    /// authority with the device key's approval, and the authority checks both. Nothing is judged here: a forged or
    /// stale assertion is refused there, and the payment stays as it was.
    /// </summary>
    public Task<VerificationResult> ApproveWithWebAuthnAsync(string paymentId, WebAuthnAssertion assertion, string? programId = null) =>
        InTurnAsync(paymentId, offer => verifier.LockedUntil(offer.PayerDeviceId, time.GetUtcNow()) is { } lockedUntil
            ? Task.FromResult(new VerificationResult(VerificationOutcome.Locked, 0, null, lockedUntil))
            : ApproveAsync(offer, AuthMethod.Biometric, programId, assertion));

    /// <summary>
    /// What the sheet asks the platform authenticator to sign for <paramref name="paymentId"/>: the transaction's
    /// challenge (which covers the program that pays: <paramref name="programId"/>, or the device's default) and the
    /// device's registered credential (none yet: null). Null when the payment is not on this sheet.
    /// </summary>
    public async Task<WebAuthnRequest?> WebAuthnRequestAsync(string paymentId, string? programId = null)
    {
        if (!sheet.TryGet(paymentId, out var offer))
        {
            return null;
        }

        var deviceId = offer!.PayerDeviceId;
        programId ??= await DefaultProgramAsync(offer);
        var credential = await sessions.CallAsync(deviceId, () => grains.GetGrain<IDeviceGrain>(deviceId).GetWebAuthnCredentialAsync());
        return new WebAuthnRequest(offer.PaymentId, deviceId, Signing.Approval(offer, AuthMethod.Biometric, programId), Signing.ApprovalChallenge(offer, programId), credential?.CredentialId, programId);
    }

    /// <summary>
    /// The payment programs the sheet offers for <paramref name="paymentId"/>: its device's, in the payment's currency,
    /// with what is left (the device's last used one marked). Empty when the device pays from its own account; null when
    /// the payment is not on this sheet.
    /// </summary>
    public async Task<IReadOnlyList<ProgramStatus>?> ProgramsAsync(string paymentId)
    {
        if (!sheet.TryGet(paymentId, out var offer))
        {
            return null;
        }

        return await ProgramsOfAsync(offer!);
    }

    private async Task<IReadOnlyList<ProgramStatus>> ProgramsOfAsync(PaymentOffer offer)
    {
        if (offer is { Rule.NeedsGuardian: false, AskedBy: { } member })
        {
            // A member paying alone pays from their budget, and only from it: it is the one program the sheet offers.
            var budgets = await sessions.CallAsync(offer.PayerDeviceId, () => grains.GetGrain<IHouseholdRulesGrain>(offer.HouseholdId).ListBudgetsAsync(member.Id));
            var left = budgets.FirstOrDefault(budget => budget.Budget.Currency == offer.Info.Currency)?.Left ?? 0;
            var budget = new PaymentProgram(LedgerAccounts.BudgetAccount(member.Id), offer.PayerDeviceId, $"{member.Name}'s budget", ProgramKind.Wallet, offer.Info.Currency, 0);
            return [new ProgramStatus(budget, left, LastUsed: true)];
        }

        var programs = await sessions.CallAsync(offer.PayerDeviceId, () => grains.GetGrain<IPaymentProgramsGrain>(offer.HouseholdId).ListAsync(offer.PayerDeviceId));
        return [.. programs.Where(program => program.Program.Currency == offer.Info.Currency)];
    }

    /// <summary>The program paying when the person picked none: the last used, else the first in the payment's currency.</summary>
    private async Task<string?> DefaultProgramAsync(PaymentOffer offer)
    {
        var programs = await ProgramsOfAsync(offer);
        return (programs.FirstOrDefault(program => program.LastUsed) ?? programs.FirstOrDefault())?.Program.Id;
    }

    /// <summary>
    /// Whose each device of this agent is, by device id, as the household says (a device that is nobody's is left out);
    /// empty when the hub cannot say yet. The sheet's header shows it.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> OwnersAsync(string householdId)
    {
        if (sheet.Devices.FirstOrDefault() is not { } asker)
        {
            return new Dictionary<string, string>();
        }

        try
        {
            var members = await sessions.CallAsync(asker, () => grains.GetGrain<IHouseholdMembersGrain>(householdId).ListAsync());
            return sheet.Devices
                .Select(device => (Device: device, Owner: members.FirstOrDefault(member => member.Devices.Contains(device))?.Name))
                .Where(owned => owned.Owner is not null)
                .ToDictionary(owned => owned.Device, owned => owned.Owner!, StringComparer.Ordinal);
        }
        catch (Exception unreachable) when (unreachable is HandoffException or TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            return new Dictionary<string, string>();
        }
    }

    /// <summary>The person declined on the sheet.</summary>
    public Task<VerificationResult> DeclineAsync(string paymentId) =>
        InTurnAsync(paymentId, offer => DeclineAsync(offer, "declined on payer device", VerificationOutcome.Declined));

    private async Task<VerificationResult> InTurnAsync(string paymentId, Func<PaymentOffer, Task<VerificationResult>> act)
    {
        var turn = _turns.GetOrAdd(paymentId, static _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync();
        try
        {
            return sheet.TryGet(paymentId, out var offer) ? await act(offer!) : await NotOnSheetAsync(paymentId);
        }
        finally
        {
            turn.Release();
            if (!sheet.TryGet(paymentId, out _))
            {
                _turns.TryRemove(paymentId, out _);
                _wrongPins.TryRemove(paymentId, out _);
            }
        }
    }

    private async Task<VerificationResult> CheckPinAsync(PaymentOffer offer, string pin, string? programId)
    {
        var deviceId = offer.PayerDeviceId;
        using var span = Telemetry.HandoffTraces.PinEntered(offer.PaymentId, deviceId, silo.SiloAddress.ToString());
        var now = time.GetUtcNow();
        if (verifier.LockedUntil(deviceId, now) is { } lockedUntil)
        {
            return new VerificationResult(VerificationOutcome.Locked, 0, null, lockedUntil);
        }

        if (verifier.VerifyPin(deviceId, pin))
        {
            verifier.Succeeded(deviceId);
            return await ApproveAsync(offer, AuthMethod.Pin, programId);
        }

        var wrong = _wrongPins.AddOrUpdate(offer.PaymentId, 1, static (_, count) => count + 1);
        var triesLeft = options.Value.MaxPinTries - wrong;
        var locked = verifier.Failed(deviceId, now, options.Value.PinLockoutAfter, options.Value.PinLockoutDuration);
        LogWrongPin(logger, offer.PaymentId, deviceId, triesLeft);
        if (triesLeft <= 0)
        {
            var declined = await DeclineAsync(offer, $"{options.Value.MaxPinTries} wrong PIN entries", VerificationOutcome.TooManyWrongPins);
            return declined with { LockedUntil = locked };
        }

        sheet.WrongPin(offer.PaymentId, locked is null ? triesLeft : 0);
        return locked is null
            ? new VerificationResult(VerificationOutcome.WrongPin, triesLeft, null)
            : new VerificationResult(VerificationOutcome.Locked, triesLeft, null, locked);
    }

    private async Task<VerificationResult> ApproveAsync(PaymentOffer offer, AuthMethod method, string? programId, WebAuthnAssertion? assertion = null)
    {
        if (programId is not null)
        {
            DeviceIds.Require(programId, "program");
        }
        else if (assertion is null)
        {
            // A biometric approval pays with the program its challenge named; a PIN with the one picked, or the default.
            programId = await DefaultProgramAsync(offer);
        }

        var approval = new PaymentApproval(offer.PaymentId, offer.PayerDeviceId, offer.Nonce, method, time.GetUtcNow())
        {
            Signature = signer.Sign(offer.PayerDeviceId, Signing.Approval(offer, method, programId)),
            Assertion = assertion,
            ProgramId = programId,
        };
        await faults.ReachedAsync(FaultPoints.ApprovedNotSent);
        try
        {
            var payment = await sessions.CallAsync(offer.PayerDeviceId, () => Authority(offer.PaymentId).AuthorizeAsync(approval));
            return Finish(VerificationOutcome.Approved, payment);
        }
        catch (PaymentNotCompletedException ended)
        {
            return Finish(VerificationOutcome.NotPending, ended.Payment);
        }
        catch (AlreadyPaidException paid)
        {
            // Another payer device approved first: this sheet closes saying where, and the person is told why.
            var payment = await sessions.CallAsync(offer.PayerDeviceId, () => Authority(offer.PaymentId).GetAsync());
            sheet.Close(payment.PaymentId, payment.State, payment.FailureReason ?? $"paid on {paid.PaidOn}");
            throw;
        }
    }

    private async Task<VerificationResult> DeclineAsync(PaymentOffer offer, string reason, VerificationOutcome outcome)
    {
        var signature = signer.Sign(offer.PayerDeviceId, Signing.Decline(offer.PaymentId, offer.PayerDeviceId, offer.Nonce, reason));
        var payment = await sessions.CallAsync(offer.PayerDeviceId, () => Authority(offer.PaymentId).DeclineAsync(offer.PayerDeviceId, reason, signature));
        return Finish(outcome, payment);
    }

    private VerificationResult Finish(VerificationOutcome outcome, PaymentSnapshot payment)
    {
        sheet.Close(payment.PaymentId, payment.State, payment.FailureReason);
        return new VerificationResult(outcome, 0, payment);
    }

    /// <summary>Not on this sheet: ended, or never this device's. Says which, when a device of this agent can ask.</summary>
    private async Task<VerificationResult> NotOnSheetAsync(string paymentId)
    {
        foreach (var deviceId in sheet.Devices)
        {
            PaymentSnapshot payment;
            try
            {
                payment = await sessions.CallAsync(deviceId, () => Authority(paymentId).GetAsync());
            }
            catch (HandoffException)
            {
                // Not a payment of this device's household, or no such payment: try the next device.
                continue;
            }

            if (payment.Payer is { } paidOn && paidOn != deviceId && payment.Payers.Contains(deviceId))
            {
                // Offered here too, but another device's approval won and this sheet has already closed: the person
                // hears the same answer as when the sheet was still open.
                throw new AlreadyPaidException(paymentId, paidOn);
            }

            return new VerificationResult(VerificationOutcome.NotPending, 0, payment);
        }

        return new VerificationResult(VerificationOutcome.NotPending, 0, null);
    }

    private IPaymentRequestGrain Authority(string paymentId) => grains.GetGrain<IPaymentRequestGrain>(paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId}: wrong PIN on device {DeviceId}, {TriesLeft} tries left")]
    private static partial void LogWrongPin(ILogger logger, string paymentId, string deviceId, int triesLeft);
}

/// <summary>What a payer page passes to <c>navigator.credentials.get</c> for one offer on its sheet.</summary>
/// <param name="Statement">The transaction statement the device key signs, which the challenge hashes: what the person confirms.</param>
/// <param name="Challenge">SHA-256 of <paramref name="Statement"/> (<see cref="Signing.ApprovalChallenge"/>).</param>
/// <param name="CredentialId">The device's registered platform credential, or null when it has registered none.</param>
/// <param name="ProgramId">The payment program the approval pays with (null: the device's own account); the page sends it back with the assertion.</param>
public sealed record WebAuthnRequest(string PaymentId, string DeviceId, byte[] Statement, byte[] Challenge, byte[]? CredentialId, string? ProgramId = null);
