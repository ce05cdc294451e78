using System.Reflection;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Contracts.Telemetry;
using Handoff.Grains;
using Handoff.Grains.Reminders;
using Handoff.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Grains.Tests;

/// <summary>
/// A plain Orleans client on the household's gateway, with no device key, plays the attacker: it calls every
/// method of every grain contract (found by reflection, so a method added later is covered without editing this
/// test), with and without a forged request context. None may approve, decline, check a PIN, charge, or read the
/// household; the person's payment, its sheet and the ledger are exactly as they were.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class AttackTests(HouseholdCluster household)
{
    private static readonly PaymentInfo Tea = new(12.50m, "CNY", "Tea House");

    private const string NotedByAttacker = "pay-noted-by-an-attacker";

    public static TheoryData<string> Forgeries => new() { "none", "household and device", "authority flag", "another household" };

    /// <summary>Every grain interface of the project: the contracts, and the grains' own internal ones.</summary>
    private static IEnumerable<Type> Contracts() =>
        new[] { typeof(IDeviceGrain).Assembly, typeof(IReminderStoreGrain).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.IsInterface && typeof(IGrain).IsAssignableFrom(type) && !typeof(IGrainObserver).IsAssignableFrom(type));

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_client_without_a_session_gets_nothing_from_any_grain_method(string forgery)
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var ledgerBefore = await household.LedgerAsync();
        var calls = 0;
        var answered = new List<string>();
        foreach (var contract in Contracts())
        {
            foreach (var method in contract.GetMethods())
            {
                calls++;
                Forge(forgery);

                // A one-way call never reports back: what it would do is checked below, on its effects.
                var oneWay = method.IsDefined(typeof(Orleans.Concurrency.OneWayAttribute));
                var outcome = await CallAsync(contract, method, oneWay ? NotedByAttacker : payment.PaymentId);
                RequestContext.Clear();
                var allowed = method.IsDefined(typeof(NoSessionAttribute)) || contract == typeof(IPaymentAbilityGrain);
                if (oneWay)
                {
                    continue;
                }

                if (outcome is null)
                {
                    answered.Add($"{contract.Name}.{method.Name}");
                }
                else if (!allowed)
                {
                    // Refused by the hub's filter itself, before the grain ran: not a "not found" from deep inside.
                    Assert.True(outcome is ForbiddenException or SessionExpiredException, $"{contract.Name}.{method.Name} ({forgery}): {outcome.GetType().Name}: {outcome.Message}");
                }
            }
        }

        // What answers a stranger at all: a session challenge (worth nothing without the device key), span export
        // (diagnostics, read by nothing that moves money), and the sheet's two notices, which it checks with the authority.
        Assert.True(calls > 30, $"only {calls} methods found by reflection");
        Assert.Equal(
            new[] { "IDeviceGrain.GetSessionChallengeAsync", "IPaymentAbilityGrain.OfferAsync", "ITraceCollectorGrain.ExportAsync" },
            answered.Order(StringComparer.Ordinal).ToArray());

        // Nothing moved: the payment still waits for its person, on its sheet, and the ledger is as it was.
        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(payment.PaymentId)).State);
        Assert.True(household.Sheet(HouseholdCluster.Phone1.Id).Shows(payment.PaymentId), "the sheet lost the real offer");
        Assert.Equal(ledgerBefore.Entries.Count, (await household.LedgerAsync()).Entries.Count);
        Assert.DoesNotContain(NotedByAttacker, await household.Tv1.RecentPaymentsAsync(100));

        // And the person can still pay it, with the first right PIN: no try was burned.
        var paid = await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal(VerificationOutcome.Approved, paid.Outcome);
        Assert.Equal(PaymentState.Completed, paid.Payment!.State);
    }

    [Fact]
    public async Task A_forged_or_foreign_session_credential_is_refused()
    {
        var ledger = household.Cluster.Client.GetGrain<ILedgerGrain>(HouseholdCluster.Home);
        foreach (var token in new[]
        {
            "v1.aG9tZQ.dHYtMQ.99999999999.AAAAAAAAAAAAAAAAAAAAAA",
            "garbage",
        })
        {
            RequestContext.Set(CallerContext.SessionKey, token);
            await Assert.ThrowsAsync<ForbiddenException>(() => ledger.GetSummaryAsync());
            RequestContext.Clear();
        }

        // A real session of the neighbour's household reads nothing of this one.
        var neighbour = household.Client(HouseholdCluster.Other, HouseholdCluster.OtherTv);
        await Assert.ThrowsAsync<NotFoundException>(() => neighbour.CallAsync(grains => grains.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetSummaryAsync()));
        Assert.Empty(await neighbour.CallAsync(grains => grains.GetGrain<IHouseholdGrain>(HouseholdCluster.Home).RecentPaymentsAsync(10)));

        // A real session of this household's TV can neither charge nor read the payer's nonce.
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains =>
            grains.GetGrain<ILedgerGrain>(HouseholdCluster.Home).ChargeAsync(new ChargeRequest(payment.PaymentId, "payer:phone-1", "merchant:Tea House", 1m, "CNY"))));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(payment.PaymentId).GetOfferAsync()));
        Assert.Null(await household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(payment.PaymentId));
    }

    [Fact]
    public async Task A_device_with_a_real_session_is_refused_every_method_meant_for_the_payments_authority()
    {
        // Charging, budgets, the rules' decision, a device's approval check and key enrolment: each is the authority's
        // step. A paired TV, with its own real session, calls each of them (found by reflection) and is refused.
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var ledgerBefore = await household.LedgerAsync();
        var authorityOnly = Contracts()
            .SelectMany(contract => contract.GetMethods().Select(method => (contract, method)))
            .Where(pair => pair.method.IsDefined(typeof(AuthorityOnlyAttribute), inherit: true) && !pair.method.IsDefined(typeof(Orleans.Concurrency.OneWayAttribute)))
            .ToList();
        Assert.Contains(authorityOnly, pair => pair.method.Name == nameof(IDeviceGrain.VerifyApprovalAsync));
        Assert.Contains(authorityOnly, pair => pair.method.Name == nameof(IHouseholdRulesGrain.DecideAsync));

        foreach (var (contract, method) in authorityOnly)
        {
            var outcome = await household.Tv1.CallAsync(_ => CallAsync(contract, method, payment.PaymentId));
            Assert.True(outcome is ForbiddenException, $"{contract.Name}.{method.Name} with the TV's session: {outcome?.GetType().Name ?? "answered"}: {outcome?.Message}");
        }

        Assert.Equal(PaymentState.Displayed, (await household.Tv1.GetPaymentAsync(payment.PaymentId)).State);
        Assert.Equal(ledgerBefore.Entries.Count, (await household.LedgerAsync()).Entries.Count);
    }

    [Fact]
    public async Task A_device_with_a_real_session_cannot_read_or_remove_the_hubs_reminders()
    {
        // The deadline and recovery reminders of a waiting payment live in the hub's table.
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var paymentGrain = household.Authority.GetGrain<IPaymentRequestGrain>(payment.PaymentId).GetGrainId();
        var table = household.Cluster.GetSiloServiceProvider(household.Hub.SiloAddress).GetRequiredService<IReminderTable>();
        var rows = await table.ReadRows(paymentGrain);
        Assert.NotEmpty(rows.Reminders);

        // The TV is a client with a real session of this household: every method of the store refuses it.
        var row = rows.Reminders[0];
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains => grains.GetGrain<IReminderStoreGrain>(0).ReadRowsAsync(paymentGrain)));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains => grains.GetGrain<IReminderStoreGrain>(0).ReadRowsAsync(0u, uint.MaxValue)));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains => grains.GetGrain<IReminderStoreGrain>(0).RemoveRowAsync(row.GrainId, row.ReminderName, row.ETag!)));
        await Assert.ThrowsAsync<ForbiddenException>(() => household.Tv1.CallAsync(grains => grains.GetGrain<IReminderStoreGrain>(0).UpsertRowAsync(row)));

        Assert.Equal(rows.Reminders.Count, (await table.ReadRows(paymentGrain)).Reminders.Count);
    }

    [Fact]
    public async Task A_stale_session_credential_is_refused_once_its_lifetime_is_over()
    {
        var sessions = new DeviceSessions(household.Cluster.Client, household.Keys, household.Time);
        var token = await sessions.TokenAsync(HouseholdCluster.Tv);
        var home = household.Cluster.Client.GetGrain<IHouseholdGrain>(HouseholdCluster.Home);
        try
        {
            RequestContext.Set(CallerContext.SessionKey, token);
            Assert.NotEmpty(await home.ListDevicesAsync());

            household.Time.Advance(new HandoffOptions().SessionLifetime + TimeSpan.FromSeconds(1));
            RequestContext.Set(CallerContext.SessionKey, token);
            await Assert.ThrowsAsync<SessionExpiredException>(() => home.ListDevicesAsync());
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    private static void Forge(string forgery)
    {
        switch (forgery)
        {
            case "household and device":
                RequestContext.Set(CallerContext.CallerKey, new VerifiedCaller(HouseholdCluster.Home, HouseholdCluster.Phone1.Id, FromAuthority: false));
                break;
            case "authority flag":
                RequestContext.Set(CallerContext.CallerKey, new VerifiedCaller(null, null, FromAuthority: true));
                RequestContext.Set(CallerContext.AuthorityKey, "29000000.AAAAAAAAAAAAAAAAAAAAAA");
                break;
            case "another household":
                RequestContext.Set(CallerContext.CallerKey, new VerifiedCaller(HouseholdCluster.Other, HouseholdCluster.OtherTv, FromAuthority: false));
                break;
        }
    }

    /// <summary>Calls <paramref name="method"/> with plausible arguments aimed at the real payment; null when it answered.</summary>
    private async Task<Exception?> CallAsync(Type contract, MethodInfo method, string paymentId)
    {
        var grain = GrainOf(contract, paymentId);
        var arguments = method.GetParameters().Select(parameter => ArgumentFor(parameter.ParameterType, paymentId)).ToArray();
        try
        {
            var task = (Task)method.Invoke(grain, arguments)!;
            await task.WaitAsync(TimeSpan.FromSeconds(10));
            return null;
        }
        catch (Exception exception)
        {
            return exception is TargetInvocationException { InnerException: { } inner } ? inner : exception;
        }
    }

    private object GrainOf(Type contract, string paymentId)
    {
        var key = contract == typeof(IPaymentRequestGrain) ? paymentId
            : contract == typeof(IDeviceGrain) || contract == typeof(IPaymentAbilityGrain) ? HouseholdCluster.Phone1.Id
            : HouseholdCluster.Home;
        return typeof(IGrainWithIntegerKey).IsAssignableFrom(contract)
            ? household.Cluster.Client.GetGrain(contract, 0L)
            : household.Cluster.Client.GetGrain(contract, key);
    }

    private static object? ArgumentFor(Type type, string paymentId)
    {
        if (type == typeof(string))
        {
            return paymentId;
        }

        if (type == typeof(byte[]))
        {
            return new byte[64];
        }

        if (type == typeof(PaymentApproval))
        {
            return new PaymentApproval(paymentId, HouseholdCluster.Phone1.Id, "00", AuthMethod.Pin, DateTimeOffset.UnixEpoch, new byte[64]);
        }

        if (type == typeof(WebAuthnAssertion))
        {
            return new WebAuthnAssertion(new byte[16], "{}"u8.ToArray(), new byte[37], new byte[70]);
        }

        if (type == typeof(WebAuthnAttestation))
        {
            return new WebAuthnAttestation(new byte[16], "{}"u8.ToArray(), new byte[64]);
        }

        if (type == typeof(ChargeRequest))
        {
            return new ChargeRequest(paymentId, "payer:phone-1", "merchant:attacker", 9_999m, "CNY");
        }

        if (type == typeof(SessionProof))
        {
            return new SessionProof(HouseholdCluster.Phone1.Id, "00", new byte[64]);
        }

        if (type == typeof(PaymentRequestInput))
        {
            return new PaymentRequestInput(HouseholdCluster.Home, HouseholdCluster.Tv, HouseholdCluster.Phone1.Id, "attack", Tea, null, new byte[64]);
        }

        if (type == typeof(DeviceRegistration))
        {
            return new DeviceRegistration(HouseholdCluster.Phone1.Id, HouseholdCluster.Home, "Attacker", DeviceKind.Phone, DeviceRole.Payer, DeviceCapabilities.Payer);
        }

        if (type == typeof(IReadOnlyList<SpanRecord>))
        {
            return Array.Empty<SpanRecord>();
        }

        return type.IsValueType ? Activator.CreateInstance(type) : null;
    }
}
