using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Sdk;

namespace Handoff.Grains.Tests;

/// <summary>
/// Payment programs through the cluster, in the neighbours' household (tv-x asks, phone-x pays), so that the home
/// household's devices keep paying from their device accounts: the person picks a program, a program never pays
/// beyond its balance or limit, and the choice is the payer's signed word, checked by the authority.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class ProgramTests(HouseholdCluster household)
{
    private const string Household = HouseholdCluster.Other;
    private static readonly string Phone = HouseholdCluster.PhoneX.Id;
    private static readonly string Pin = HouseholdCluster.PinOf(HouseholdCluster.PhoneX);

    private HandoffClient Tv => household.Client(Household, HouseholdCluster.OtherTv);

    /// <summary>The programs as the administrator reaches them: with the admin token, and no device session.</summary>
    private IPaymentProgramsGrain AdminPrograms => household.Cluster.Client.GetGrain<IPaymentProgramsGrain>(Household);

    [Fact]
    public async Task The_person_picks_a_program_and_it_pays_and_gets_the_refund()
    {
        await AddAsync(Wallet("pick-wallet"), topUp: 50m);
        await AddAsync(Card("pick-card", limit: 100m));
        var payment = await Tv.RequestPaymentAsync(new PaymentInfo(30m, "CNY", "Program Shop"), Phone);

        var offered = await household.Person(Phone).ProgramsAsync(payment.PaymentId);
        Assert.Equal(["pick-card", "pick-wallet"], offered!.Where(program => program.Program.Id.StartsWith("pick-", StringComparison.Ordinal)).Select(program => program.Program.Id));
        var result = await household.Person(Phone).ApproveWithPinAsync(payment.PaymentId, Pin, "pick-card");

        Assert.Equal(PaymentState.Completed, result.Payment!.State);
        Assert.Equal("pick-card", result.Payment.Program);
        Assert.Equal(-30m, await BalanceAsync("pick-card"));
        Assert.Equal(50m, await BalanceAsync("pick-wallet"));
        var listed = await ListAsync();
        Assert.True(listed.Single(program => program.Program.Id == "pick-card").LastUsed);
        Assert.Equal(70m, listed.Single(program => program.Program.Id == "pick-card").Left);

        // The money goes back to the program that paid.
        await Tv.RefundAsync(payment.PaymentId, 10m, "back");
        Assert.Equal(-20m, await BalanceAsync("pick-card"));
    }

    [Fact]
    public async Task Too_little_left_is_refused_and_the_person_pays_with_another_program_before_the_deadline()
    {
        await AddAsync(Wallet("short-wallet"), topUp: 10m);
        await AddAsync(Card("short-card", limit: 40m));
        var before = await household.LedgerAsync(Household);
        var payment = await Tv.RequestPaymentAsync(new PaymentInfo(25m, "CNY", "Program Shop"), Phone);

        var refused = await Assert.ThrowsAsync<InsufficientFundsException>(() => household.Person(Phone).ApproveWithPinAsync(payment.PaymentId, Pin, "short-wallet"));

        Assert.Equal(ErrorCodes.InsufficientFunds, refused.Code);
        Assert.Equal(10m, refused.Left);
        Assert.Equal(before.Entries.Count, (await household.LedgerAsync(Household)).Entries.Count);
        Assert.True(household.Sheet(Phone).Shows(payment.PaymentId));
        Assert.True((await Tv.GetPaymentAsync(payment.PaymentId)).State.AwaitsVerification());

        var paid = await household.Person(Phone).ApproveWithPinAsync(payment.PaymentId, Pin, "short-card");
        Assert.Equal(PaymentState.Completed, paid.Payment!.State);
        Assert.Equal(10m, await BalanceAsync("short-wallet"));
        Assert.Equal(-25m, await BalanceAsync("short-card"));
    }

    [Fact]
    public async Task Without_a_choice_the_device_pays_with_the_program_it_used_last()
    {
        await AddAsync(Card("last-card", limit: 500m));
        var first = await Tv.RequestPaymentAsync(new PaymentInfo(3m, "CNY", "Program Shop"), Phone);
        await household.Person(Phone).ApproveWithPinAsync(first.PaymentId, Pin, "last-card");

        var second = await Tv.RequestPaymentAsync(new PaymentInfo(4m, "CNY", "Program Shop"), Phone);
        var result = await household.Person(Phone).ApproveWithPinAsync(second.PaymentId, Pin);

        Assert.Equal("last-card", result.Payment!.Program);
        Assert.Equal(-7m, await BalanceAsync("last-card"));
    }

    [Fact]
    public async Task Two_payments_racing_for_the_last_money_of_a_wallet_never_both_take_it()
    {
        await AddAsync(Wallet("race-wallet"), topUp: 100m);
        for (var round = 0; round < 10; round++)
        {
            var payments = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
                Tv.RequestPaymentAsync(new PaymentInfo(60m, "CNY", "Race Shop"), Phone, $"race-wallet-{round}-{i}")));
            var outcomes = await Task.WhenAll(payments.Select(async payment =>
            {
                try
                {
                    return (await household.Person(Phone).ApproveWithPinAsync(payment.PaymentId, Pin, "race-wallet")).Payment!.State;
                }
                catch (InsufficientFundsException)
                {
                    await Tv.CancelAsync(payment.PaymentId);
                    return PaymentState.Cancelled;
                }
            }));

            // Whichever way the race goes (refused at approval, or by the ledger at the charge), one pays and the wallet stays >= 0.
            Assert.Equal(round == 0 ? 1 : 0, outcomes.Count(state => state == PaymentState.Completed));
            Assert.Equal(40m, await BalanceAsync("race-wallet"));
        }

        var ledger = await household.LedgerAsync(Household);
        Assert.Single(ledger.Entries, entry => entry.DebitAccount == LedgerAccounts.ProgramAccount("race-wallet"));
    }

    [Fact]
    public async Task The_ledger_refuses_a_charge_below_the_floor_counting_charges_still_being_stored()
    {
        var householdId = "floor-" + Guid.NewGuid().ToString("n")[..8];
        var ledger = household.Authority.GetGrain<ILedgerGrain>(householdId);
        var account = LedgerAccounts.ProgramAccount("floor-wallet");
        await ledger.ChargeAsync(new ChargeRequest("topup:floor", LedgerAccounts.FundingAccount, account, 100m, "CNY"));

        var attempts = await Task.WhenAll(Enumerable.Range(1, 5).Select(async i =>
        {
            try
            {
                await ledger.ChargeAsync(new ChargeRequest($"pay-floor-{i}", account, LedgerAccounts.MerchantAccount("Shop"), 30m, "CNY", Floor: 0m));
                return true;
            }
            catch (InsufficientFundsException)
            {
                return false;
            }
        }));

        Assert.Equal(3, attempts.Count(charged => charged));
        Assert.Equal(10m, (await ledger.GetSummaryAsync()).Balances[LedgerAccounts.BalanceKey(account, "CNY")]);

        // A charge asked again is answered with its entry, whatever is left now: no money moves twice, none is refused twice.
        var charged = Enumerable.Range(1, 5).First(i => attempts[i - 1]);
        var again = await ledger.ChargeAsync(new ChargeRequest($"pay-floor-{charged}", account, LedgerAccounts.MerchantAccount("Shop"), 30m, "CNY", Floor: 0m));
        Assert.Equal(30m, again.Amount);
    }

    [Fact]
    public async Task The_authority_pays_only_with_the_signed_program_of_the_approving_device()
    {
        await AddAsync(Card("own-card", limit: 100m));
        await AddAsync(Card("other-card", limit: 100m));
        var payment = await Tv.RequestPaymentAsync(new PaymentInfo(5m, "CNY", "Program Shop"), Phone);
        Assert.True(household.Sheet(Phone).TryGet(payment.PaymentId, out var offer));
        var phone = household.Client(Household, Phone);
        PaymentApproval Signed(string? signedFor, string? sent) => new(payment.PaymentId, Phone, offer!.Nonce, AuthMethod.Pin, household.Time.GetUtcNow())
        {
            Signature = household.Keys.Sign(Phone, Signing.Approval(offer, AuthMethod.Pin, signedFor)),
            ProgramId = sent,
        };
        Task Send(PaymentApproval approval) => phone.CallAsync(grains => grains.GetGrain<IPaymentRequestGrain>(payment.PaymentId).AuthorizeAsync(approval));

        // Signed for one program and sent with another; no program from a device that has some; a program of no device.
        await Assert.ThrowsAsync<ForbiddenException>(() => Send(Signed("own-card", "other-card")));
        var unnamed = await Assert.ThrowsAsync<ValidationException>(() => Send(Signed(null, null)));
        Assert.Equal("program", unnamed.Field);
        await Assert.ThrowsAsync<NotFoundException>(() => Send(Signed("nobody-card", "nobody-card")));
        Assert.True((await Tv.GetPaymentAsync(payment.PaymentId)).State.AwaitsVerification());

        await Send(Signed("own-card", "own-card"));
        var paid = await Tv.GetPaymentAsync(payment.PaymentId);
        Assert.Equal(PaymentState.Completed, paid.State);
        Assert.Equal("own-card", paid.Program);
    }

    [Fact]
    public async Task No_device_chooses_a_program_in_the_authority_s_place_nor_reads_another_household_s()
    {
        await AddAsync(Card("attack-card", limit: 50m));
        var phone = household.Client(Household, Phone);

        // Only the payment's authority checks a choice: a device asking directly is refused, whatever it names.
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            phone.CallAsync(grains => grains.GetGrain<IPaymentProgramsGrain>(Household).ChooseAsync(Phone, "attack-card", 1m, "CNY")));
        Assert.Empty(await household.Tv1.CallAsync(grains => grains.GetGrain<IPaymentProgramsGrain>(Household).ListAsync(null)));
        Assert.Contains(await ListAsync(), program => program.Program.Id == "attack-card");
    }

    [Fact]
    public async Task Only_the_admin_adds_tops_up_and_removes_programs_and_bad_ones_are_refused()
    {
        var card = Card("admin-card", limit: 10m);
        await Assert.ThrowsAsync<ForbiddenException>(() => AdminPrograms.AddAsync("guess", card));
        await Assert.ThrowsAsync<ForbiddenException>(() => Tv.CallAsync(grains => grains.GetGrain<IPaymentProgramsGrain>(Household).TopUpAsync("guess", "admin-card", 1m, "k")));
        await Assert.ThrowsAsync<NotCapableException>(() => AddAsync(card with { DeviceId = HouseholdCluster.OtherTv }));
        await Assert.ThrowsAsync<NotFoundException>(() => AddAsync(card with { DeviceId = "phone-nobody" }));
        Assert.Equal("limit", (await Assert.ThrowsAsync<ValidationException>(() => AddAsync(Wallet("admin-wallet") with { Limit = 5m }))).Field);
        Assert.Equal("currency", (await Assert.ThrowsAsync<ValidationException>(() => AddAsync(card with { Currency = "XYZ" }))).Field);
        Assert.Equal("limit", (await Assert.ThrowsAsync<ValidationException>(() => AddAsync(card with { Limit = 0.001m }))).Field);

        await AddAsync(card);
        await AddAsync(card);
        await Assert.ThrowsAsync<ConflictException>(() => AddAsync(card with { Limit = 20m }));

        await TopUpAsync("admin-card", 5m, "once");
        await TopUpAsync("admin-card", 5m, "once");
        await Assert.ThrowsAsync<ConflictException>(() => TopUpAsync("admin-card", 6m, "once"));
        Assert.Equal("amount", (await Assert.ThrowsAsync<ValidationException>(() => TopUpAsync("admin-card", -1m, "negative"))).Field);
        Assert.Equal(5m, await BalanceAsync("admin-card"));

        await AdminPrograms.RemoveAsync(HouseholdCluster.AdminToken, "admin-card");
        Assert.DoesNotContain(await ListAsync(), program => program.Program.Id == "admin-card");
        var payment = await Tv.RequestPaymentAsync(new PaymentInfo(1m, "CNY", "Program Shop"), Phone);
        await Assert.ThrowsAsync<NotFoundException>(() => household.Person(Phone).ApproveWithPinAsync(payment.PaymentId, Pin, "admin-card"));
        await Tv.CancelAsync(payment.PaymentId);
    }

    private static PaymentProgram Wallet(string id) => new(id, Phone, $"Wallet {id}", ProgramKind.Wallet, "CNY", 0m);

    private static PaymentProgram Card(string id, decimal limit) => new(id, Phone, $"Card {id}", ProgramKind.Card, "CNY", limit);

    private async Task AddAsync(PaymentProgram program, decimal? topUp = null)
    {
        await AdminPrograms.AddAsync(HouseholdCluster.AdminToken, program);
        if (topUp is { } amount)
        {
            await TopUpAsync(program.Id, amount, "seed");
        }
    }

    private Task<ProgramStatus> TopUpAsync(string programId, decimal amount, string key) =>
        AdminPrograms.TopUpAsync(HouseholdCluster.AdminToken, programId, amount, key);

    private Task<IReadOnlyList<ProgramStatus>> ListAsync() =>
        Tv.CallAsync(grains => grains.GetGrain<IPaymentProgramsGrain>(Household).ListAsync(null));

    private async Task<decimal> BalanceAsync(string programId) =>
        (await household.LedgerAsync(Household)).Balances.GetValueOrDefault(LedgerAccounts.BalanceKey(LedgerAccounts.ProgramAccount(programId), "CNY"));
}
