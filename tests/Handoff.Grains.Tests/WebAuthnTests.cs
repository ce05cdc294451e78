using Handoff.Cli.Load;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Grains.Tests;

/// <summary>
/// Biometric approvals are WebAuthn assertions of the payer's registered platform credential over the transaction:
/// the hub's rules one by one, with the load runner's software authenticator (no browser). Each refusal charges
/// nothing and leaves the payment on the sheet, payable by a valid assertion.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class WebAuthnTests(HouseholdCluster household) : IDisposable
{
    private static readonly PaymentInfo Tea = new(18.80m, "CNY", "Tea House");
    private static readonly string Phone = HouseholdCluster.Phone1.Id;

    private readonly List<SoftwarePlatformAuthenticator> _authenticators = [];

    public void Dispose()
    {
        foreach (var authenticator in _authenticators)
        {
            authenticator.Dispose();
        }
    }

    [Fact]
    public async Task A_registered_authenticator_is_listed_and_its_assertion_over_the_transaction_pays_once()
    {
        var authenticator = await RegisterAsync();

        var listed = await household.Tv1.ListPayerDevicesAsync();
        Assert.Equal(new[] { AuthMethod.Pin, AuthMethod.Biometric }, listed.Single(device => device.DeviceId == Phone).Capabilities.AuthMethods);

        var (payment, offer) = await RequestAsync();
        var result = await Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(offer)));

        Assert.Equal(VerificationOutcome.Approved, result.Outcome);
        Assert.Equal(PaymentState.Completed, result.Payment!.State);
        Assert.Contains(result.Payment.History, step => step.Cause == "verified by biometric on payer device");
        Assert.Equal(1, (await household.LedgerAsync()).Entries.Count(entry => entry.PaymentId == payment.PaymentId));
    }

    [Fact]
    public async Task An_assertion_whose_counter_does_not_grow_is_refused()
    {
        var authenticator = await RegisterAsync();
        var (first, firstOffer) = await RequestAsync();

        // Registered at 0: Fido2 lets 0 after 0 pass (an authenticator that keeps no counter); the household does not.
        var zero = await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(first.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(firstOffer), signCount: 0)));
        Assert.Equal("biometric: the authenticator's signature counter did not grow (0 after 0)", zero.Message);
        await AssertStillPayableAsync(first.PaymentId, firstOffer, authenticator);

        var (payment, offer) = await RequestAsync();
        var challenge = Signing.ApprovalChallenge(offer);
        await Assert.ThrowsAsync<ForbiddenException>(() => Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(challenge, signCount: authenticator.SignCount)));
        await Assert.ThrowsAsync<ForbiddenException>(() => Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(challenge, signCount: 0)));

        await AssertStillPayableAsync(payment.PaymentId, offer, authenticator);
    }

    [Fact]
    public async Task An_assertion_made_on_another_origin_is_refused()
    {
        var authenticator = await RegisterAsync();
        var (payment, offer) = await RequestAsync();

        await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(offer), origin: "http://localhost:1")));
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(offer), origin: "http://attacker.example")));

        await AssertStillPayableAsync(payment.PaymentId, offer, authenticator);
    }

    [Fact]
    public async Task An_assertion_without_the_user_verified_flag_is_refused()
    {
        var authenticator = await RegisterAsync();
        var (payment, offer) = await RequestAsync();

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(offer), userVerified: false)));

        Assert.StartsWith("biometric: the assertion does not verify", refused.Message, StringComparison.Ordinal);
        await AssertStillPayableAsync(payment.PaymentId, offer, authenticator);
    }

    [Fact]
    public async Task An_assertion_over_another_transaction_or_of_another_credential_is_refused()
    {
        var authenticator = await RegisterAsync();
        var (payment, offer) = await RequestAsync();
        var (other, otherOffer) = await RequestAsync();
        using var stranger = new SoftwarePlatformAuthenticator();

        await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(offer with { Info = offer.Info with { Amount = 0.01m } }))));
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(payment.PaymentId, authenticator.Assert(Signing.ApprovalChallenge(otherOffer))));
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            Person.ApproveWithWebAuthnAsync(payment.PaymentId, stranger.Assert(Signing.ApprovalChallenge(offer))));

        await AssertStillPayableAsync(payment.PaymentId, offer, authenticator);
        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(other.PaymentId)).State);
    }

    [Fact]
    public async Task A_biometric_approval_without_an_assertion_is_refused_even_signed_by_the_device_key()
    {
        await RegisterAsync();
        var (payment, offer) = await RequestAsync();
        var approval = new PaymentApproval(offer.PaymentId, Phone, offer.Nonce, AuthMethod.Biometric, household.Time.GetUtcNow())
        {
            Signature = household.Keys.Sign(Phone, Signing.Approval(offer, AuthMethod.Biometric)),
        };

        await Assert.ThrowsAsync<ForbiddenException>(() => new AsDevice(household.Client(HouseholdCluster.Home, Phone), payment.PaymentId).AuthorizeAsync(approval));

        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(payment.PaymentId)).State);
        Assert.Null(await household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(payment.PaymentId));
    }

    [Fact]
    public async Task Only_the_device_itself_registers_once_per_ceremony_for_a_localhost_origin()
    {
        var device = household.Cluster.Client.GetGrain<IDeviceGrain>(Phone);
        var origin = SoftwarePlatformAuthenticator.DefaultOrigin;

        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(_ => device.BeginWebAuthnRegistrationAsync(origin)));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Client(HouseholdCluster.Home, HouseholdCluster.Phone2.Id).CallAsync(_ => device.BeginWebAuthnRegistrationAsync(origin)));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(_ => device.GetWebAuthnCredentialAsync()));
        await Assert.ThrowsAsync<ValidationException>(() => Credentials.BeginAsync(Phone, "http://127.0.0.1:5181"));
        await Assert.ThrowsAsync<ValidationException>(() => Credentials.BeginAsync(Phone, "http://localhost:5181/sheet"));

        // A ceremony counts once; an attestation from another page than the one stated at begin is refused.
        using var authenticator = new SoftwarePlatformAuthenticator();
        var attestation = authenticator.Attest(await Credentials.BeginAsync(Phone, origin));
        await Credentials.CompleteAsync(Phone, attestation);
        await Assert.ThrowsAsync<ForbiddenException>(() => Credentials.CompleteAsync(Phone, attestation));
        using var elsewhere = new SoftwarePlatformAuthenticator("http://localhost:1");
        await Assert.ThrowsAsync<ForbiddenException>(async () => await Credentials.CompleteAsync(Phone, elsewhere.Attest(await Credentials.BeginAsync(Phone, origin))));

        Assert.Equal(authenticator.CredentialId, (await Credentials.GetAsync(Phone))!.CredentialId);
    }

    private PayerVerification Person => household.Person(Phone);

    private PlatformCredentials Credentials =>
        household.Cluster.GetSiloServiceProvider(household.SiloCarrying(Phone).SiloAddress).GetRequiredService<PlatformCredentials>();

    /// <summary>A new authenticator, registered for the phone as its payer page would (it replaces the one before).</summary>
    private async Task<SoftwarePlatformAuthenticator> RegisterAsync()
    {
        var authenticator = new SoftwarePlatformAuthenticator();
        _authenticators.Add(authenticator);
        var status = await Credentials.CompleteAsync(Phone, authenticator.Attest(await Credentials.BeginAsync(Phone, authenticator.Origin)));
        Assert.Contains(AuthMethod.Biometric, status.Capabilities.AuthMethods);
        return authenticator;
    }

    private async Task<(PaymentSnapshot Payment, PaymentOffer Offer)> RequestAsync()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, Phone);
        return (payment, household.Sheet(Phone).OnScreen.Single(offer => offer.PaymentId == payment.PaymentId));
    }

    /// <summary>The refusals changed nothing: no charge, still on the sheet, and a valid assertion pays it once.</summary>
    private async Task AssertStillPayableAsync(string paymentId, PaymentOffer offer, SoftwarePlatformAuthenticator authenticator)
    {
        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(paymentId)).State);
        Assert.Null(await household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(paymentId));
        Assert.True(household.Sheet(Phone).Shows(paymentId), "the refused approval took the payment off the sheet");

        var paid = await Person.ApproveWithWebAuthnAsync(paymentId, authenticator.Assert(Signing.ApprovalChallenge(offer)));
        Assert.Equal(PaymentState.Completed, paid.Payment!.State);
        Assert.Equal(1, (await household.LedgerAsync()).Entries.Count(entry => entry.PaymentId == paymentId));
    }
}
