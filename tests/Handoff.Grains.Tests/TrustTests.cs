using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Sdk;

namespace Handoff.Grains.Tests;

/// <summary>Pairing, signed statements and PIN policy: only the household's own devices act, each only as itself.</summary>
[Collection(HouseholdCollection.Name)]
public sealed class TrustTests(HouseholdCluster household)
{
    private static readonly PaymentInfo Tea = new(6m, "CNY", "Tea House");

    private HandoffClient Admin => household.Client(HouseholdCluster.Home, "admin");

    [Fact]
    public async Task A_pairing_code_expires_after_its_lifetime()
    {
        var code = await Admin.CreatePairingCodeAsync(HouseholdCluster.AdminToken);
        household.Time.Advance(TimeSpan.FromSeconds(121));

        var error = await Assert.ThrowsAsync<ForbiddenException>(() => PairNewAsync("tv-late", code.Code));

        Assert.Contains("no valid pairing code", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await household.Tv1.ListDevicesAsync(), device => device.DeviceId == "tv-late");
    }

    [Fact]
    public async Task A_pairing_code_is_burned_after_three_wrong_tries_and_works_only_once()
    {
        var code = await Admin.CreatePairingCodeAsync(HouseholdCluster.AdminToken);
        var wrong = code.Code == "000000" ? "111111" : "000000";

        var first = await Assert.ThrowsAsync<ForbiddenException>(() => PairNewAsync("tv-guess", wrong));
        await Assert.ThrowsAsync<ForbiddenException>(() => PairNewAsync("tv-guess", wrong));
        var third = await Assert.ThrowsAsync<ForbiddenException>(() => PairNewAsync("tv-guess", wrong));
        await Assert.ThrowsAsync<ForbiddenException>(() => PairNewAsync("tv-guess", code.Code));

        Assert.Contains("2 tries left", first.Message, StringComparison.Ordinal);
        Assert.Contains("used up", third.Message, StringComparison.Ordinal);
        var fresh = await Admin.CreatePairingCodeAsync(HouseholdCluster.AdminToken);
        await PairNewAsync("tv-once", fresh.Code);
        await Assert.ThrowsAsync<ForbiddenException>(() => PairNewAsync("tv-twice", fresh.Code));
    }

    [Fact]
    public async Task Only_the_hubs_admin_token_issues_codes_or_removes_devices()
    {
        await Assert.ThrowsAsync<ForbiddenException>(() => Admin.CreatePairingCodeAsync("guess"));
        await Assert.ThrowsAsync<ForbiddenException>(() => Admin.RemoveDeviceAsync("guess", HouseholdCluster.Tv));
        Assert.Contains(await household.Tv1.ListDevicesAsync(), device => device.DeviceId == HouseholdCluster.Tv);
    }

    [Fact]
    public async Task A_removed_device_can_do_nothing_and_a_renamed_one_shows_its_name()
    {
        await household.PairAsync(HouseholdCluster.Home, "tv-gone", "Old TV", DeviceKind.Tv, DeviceRole.Initiator);
        var renamed = await Admin.RenameDeviceAsync(HouseholdCluster.AdminToken, "tv-gone", "Garage TV");
        Assert.Equal("Garage TV", renamed.DisplayName);

        await Admin.RemoveDeviceAsync(HouseholdCluster.AdminToken, "tv-gone");

        // A removed device can no longer prove its key: no session, so nothing it asks for is heard.
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Client(HouseholdCluster.Home, "tv-gone").RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id));
        Assert.DoesNotContain(await household.Tv1.ListDevicesAsync(), device => device.DeviceId == "tv-gone");
    }

    [Fact]
    public async Task Approvals_that_are_forged_altered_replayed_or_from_another_device_are_refused_and_charge_once()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var phone = household.Client(HouseholdCluster.Home, HouseholdCluster.Phone1.Id);
        var grain = new AsDevice(phone, payment.PaymentId);
        var offer = household.Sheet(HouseholdCluster.Phone1.Id).OnScreen.Single(o => o.PaymentId == payment.PaymentId);
        var approval = new PaymentApproval(offer.PaymentId, HouseholdCluster.Phone1.Id, offer.Nonce, AuthMethod.Pin, household.Time.GetUtcNow());

        using var stranger = Signing.NewKey();
        var forged = approval with { Signature = stranger.SignData(Signing.Approval(offer, AuthMethod.Pin), System.Security.Cryptography.HashAlgorithmName.SHA256) };
        var altered = approval with { Signature = household.Keys.Sign(HouseholdCluster.Phone1.Id, Signing.Approval(offer with { Info = offer.Info with { Amount = 0.01m } }, AuthMethod.Pin)) };
        var otherDevice = approval with { PayerDeviceId = HouseholdCluster.Phone2.Id, Signature = household.Keys.Sign(HouseholdCluster.Phone2.Id, Signing.Approval(offer, AuthMethod.Pin)) };
        var wrongNonce = approval with { Nonce = "00", Signature = household.Keys.Sign(HouseholdCluster.Phone1.Id, Signing.Approval(offer with { Nonce = "00" }, AuthMethod.Pin)) };

        await Assert.ThrowsAsync<ForbiddenException>(() => grain.AuthorizeAsync(approval));
        await Assert.ThrowsAsync<ForbiddenException>(() => grain.AuthorizeAsync(forged));
        await Assert.ThrowsAsync<ForbiddenException>(() => grain.AuthorizeAsync(altered));
        await Assert.ThrowsAsync<ForbiddenException>(() => grain.AuthorizeAsync(otherDevice));
        await Assert.ThrowsAsync<ForbiddenException>(() => grain.AuthorizeAsync(wrongNonce));
        Assert.Null(await household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(payment.PaymentId));

        var genuine = approval with { Signature = household.Keys.Sign(HouseholdCluster.Phone1.Id, Signing.Approval(offer, AuthMethod.Pin)) };
        Assert.Equal(PaymentState.Completed, (await grain.AuthorizeAsync(genuine)).State);
        var replayed = await Assert.ThrowsAsync<AlreadyPaidException>(() => grain.AuthorizeAsync(genuine));
        Assert.Equal(HouseholdCluster.Phone1.Id, replayed.PaidOn);
        var entries = (await household.LedgerAsync()).Entries.Count(entry => entry.PaymentId == payment.PaymentId);
        Assert.Equal(1, entries);
    }

    [Fact]
    public async Task Requests_and_cancellations_must_carry_the_devices_own_signature()
    {
        var input = new PaymentRequestInput(HouseholdCluster.Home, HouseholdCluster.Tv, HouseholdCluster.Phone1.Id, "unsigned-1", Tea);
        var grain = new AsDevice(household.Tv1, PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, "unsigned-1"));
        using var stranger = Signing.NewKey();

        await Assert.ThrowsAsync<ForbiddenException>(() => grain.CreateAsync(input));
        await Assert.ThrowsAsync<ForbiddenException>(() => grain.CreateAsync(input with { Signature = stranger.SignData(Signing.Request(input), System.Security.Cryptography.HashAlgorithmName.SHA256) }));
        await Assert.ThrowsAsync<ForbiddenException>(() => grain.CreateAsync(input with { Signature = household.Keys.Sign(HouseholdCluster.Phone1.Id, Signing.Request(input)) }));
        await Assert.ThrowsAsync<NotFoundException>(() => household.Tv1.GetPaymentAsync(grain.PaymentId));

        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var paymentGrain = new AsDevice(household.Tv1, payment.PaymentId);
        await Assert.ThrowsAsync<ForbiddenException>(() => paymentGrain.CancelAsync(HouseholdCluster.Tv, stranger.SignData(Signing.Cancel(payment.PaymentId, HouseholdCluster.Tv), System.Security.Cryptography.HashAlgorithmName.SHA256)));
        await Assert.ThrowsAsync<ForbiddenException>(() => new AsDevice(household.Client(HouseholdCluster.Home, HouseholdCluster.Phone1.Id), payment.PaymentId).DeclineAsync(HouseholdCluster.Phone1.Id, "declined", household.Keys.Sign(HouseholdCluster.Tv, Signing.Decline(payment.PaymentId, HouseholdCluster.Phone1.Id, "x", "declined"))));
        Assert.Equal(PaymentState.Cancelled, (await household.Tv1.CancelAsync(payment.PaymentId)).State);
    }

    [Fact]
    public async Task What_cannot_be_a_pin_is_refused_before_any_check_and_uses_no_try()
    {
        var ability = household.Person(HouseholdCluster.Phone1.Id);
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);

        // Too short, too long (a megabyte would otherwise go through PBKDF2), not digits: more than the 3 tries a payment has.
        foreach (var pin in new[] { "12", "1234567890123", new string('9', 1 << 20), "12ab", " 1234", string.Empty })
        {
            var refused = await Assert.ThrowsAsync<ValidationException>(() => ability.ApproveWithPinAsync(payment.PaymentId, pin));
            Assert.StartsWith("pin:", refused.Message, StringComparison.Ordinal);
        }

        var paid = await ability.ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal(VerificationOutcome.Approved, paid.Outcome);
        Assert.Equal(PaymentState.Completed, paid.Payment!.State);
    }

    [Fact]
    public async Task Five_wrong_pins_in_a_row_lock_the_devices_payments_until_the_lockout_ends()
    {
        var ability = household.Person(HouseholdCluster.Phone2.Id);
        var first = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id);
        for (var i = 0; i < 3; i++)
        {
            await ability.ApproveWithPinAsync(first.PaymentId, "0000");
        }

        var second = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id);
        var fourth = await ability.ApproveWithPinAsync(second.PaymentId, "0000");
        var fifth = await ability.ApproveWithPinAsync(second.PaymentId, "0000");
        var whileLocked = await ability.ApproveWithPinAsync(second.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone2));

        Assert.Equal(PaymentState.Declined, (await household.Tv1.GetPaymentAsync(first.PaymentId)).State);
        Assert.Equal(VerificationOutcome.WrongPin, fourth.Outcome);
        Assert.Equal(VerificationOutcome.Locked, fifth.Outcome);
        Assert.Equal(household.Time.GetUtcNow() + TimeSpan.FromMinutes(5), fifth.LockedUntil);
        Assert.Equal(VerificationOutcome.Locked, whileLocked.Outcome);
        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(second.PaymentId)).State);

        household.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var third = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id);
        var released = await ability.ApproveWithPinAsync(third.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone2));

        Assert.Equal(VerificationOutcome.Approved, released.Outcome);
        Assert.Equal(PaymentState.Completed, released.Payment!.State);
    }

    private async Task PairNewAsync(string deviceId, string code)
    {
        using var key = Signing.NewKey();
        await household.Client(HouseholdCluster.Home, deviceId).PairAsync(code, deviceId, DeviceKind.Tv, DeviceRole.Initiator, Signing.PublicKeyOf(key));
    }
}

/// <summary>A payment's grain called straight, under one device's session (no SDK checks in between).</summary>
internal sealed class AsDevice(HandoffClient device, string paymentId)
{
    public string PaymentId => paymentId;

    public Task<PaymentSnapshot> CreateAsync(PaymentRequestInput input) => device.CallAsync(grains => Grain(grains).CreateAsync(input));

    public Task<PaymentSnapshot> AuthorizeAsync(PaymentApproval approval) => device.CallAsync(grains => Grain(grains).AuthorizeAsync(approval));

    public Task<PaymentSnapshot> CancelAsync(string deviceId, byte[] signature) => device.CallAsync(grains => Grain(grains).CancelAsync(deviceId, signature));

    public Task<PaymentSnapshot> DeclineAsync(string deviceId, string reason, byte[] signature) => device.CallAsync(grains => Grain(grains).DeclineAsync(deviceId, reason, signature));

    private IPaymentRequestGrain Grain(IGrainFactory grains) => grains.GetGrain<IPaymentRequestGrain>(paymentId);
}
