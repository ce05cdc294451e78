using Handoff.Grains;

namespace Handoff.Cli.Tests;

/// <summary>
/// Kill -9 of the hub or of the payer agent at each step of a handoff, then a restart: the payment ends
/// Completed and charged exactly once, with the evidence it kept when approved, and the ledger check over the SQLite
/// store passes (every entry's evidence verifies).
/// </summary>
public sealed class CrashRecoveryTests
{
    [Theory]
    [InlineData(FaultPoints.OfferedNotSaved)]
    [InlineData("displayed")]
    [InlineData(FaultPoints.AuthorizedNotCharged)]
    [InlineData(FaultPoints.ChargeInFlight)]
    [InlineData(FaultPoints.ChargedNotCompleted)]
    public async Task A_hub_killed_at_each_step_restarts_on_its_store_and_the_payment_completes_once(string step)
    {
        var pausing = step == "displayed" ? null : step;
        await using var household = await CrashHousehold.StartAsync(hubFault: pausing);
        var order = "crash-" + step;
        var id = household.PaymentIdOf(order);

        if (step == FaultPoints.OfferedNotSaved)
        {
            // The hub pauses inside the request: the phone shows the sheet, but Offered is not saved.
            var paying = household.PayAsync(order);
            await household.Hub!.WaitForOutputAsync($"fault point {step} reached", TimeSpan.FromSeconds(60));
            await household.Hub.KillAsync();
            Assert.NotEqual(0, (await paying).ExitCode);
        }
        else
        {
            var pay = await household.PayAsync(order);
            Assert.True(pay.ExitCode == 0, pay.ToString());
            await household.KillHubAtAsync(id, pausing);
        }

        // The store kept the devices and the payment; the phone rejoins by itself.
        await household.RestartHubAsync();
        var recovered = await household.RunAsync("status", id, "--json");
        Assert.True(recovered.ExitCode == 0, recovered.ToString());
        if (recovered.Json.GetProperty("state").GetString() != "Completed")
        {
            await household.WaitForOfferAsync(id);
            var approved = await household.ApproveAsync(id);
            Assert.True(approved.ExitCode == 0, approved.ToString());
        }

        var completed = await household.WaitForStateAsync(id, "Completed");
        Assert.Equal(1, completed.GetProperty("history").EnumerateArray().Count(step => step.GetProperty("to").GetString() == "Completed"));
        var ledger = await household.LedgerCheckAsync();
        Assert.Equal(1, ledger.GetProperty("charges").GetInt32());
        Assert.Equal(9.90m, ledger.GetProperty("chargedByCurrency").GetProperty("EUR").GetDecimal());

        // The one entry carries the evidence the payment kept when it was approved, and it verifies (the check passed).
        Assert.Equal((1, 0), (ledger.GetProperty("evidence").GetProperty("signed").GetInt32(), ledger.GetProperty("evidence").GetProperty("none").GetInt32()));
    }

    [Theory]
    [InlineData(FaultPoints.RefundNotBooked)]
    [InlineData(FaultPoints.RefundedNotSaved)]
    public async Task A_hub_killed_during_a_refund_restarts_and_the_refund_is_booked_exactly_once(string step)
    {
        await using var household = await CrashHousehold.StartAsync(hubFault: step);
        var order = "refund-crash-" + step;
        var id = household.PaymentIdOf(order);
        var pay = await household.PayAsync(order);
        Assert.True(pay.ExitCode == 0, pay.ToString());
        await household.WaitForOfferAsync(id);
        var approved = await household.ApproveAsync(id);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        await household.WaitForStateAsync(id, "Completed");

        // The hub pauses inside the refund, then dies: the refund's caller hears nothing back.
        var refunding = household.RunAsync("refund", id, "--amount", "4.00", "--key", "r-1", "--json");
        await household.Hub!.WaitForOutputAsync($"fault point {step} reached", TimeSpan.FromSeconds(60));
        await household.Hub.KillAsync();
        Assert.NotEqual(0, (await refunding).ExitCode);

        await household.RestartHubAsync();
        await household.WaitForAsync(
            async () => await household.RunAsync("status", id, "--json") is { ExitCode: 0 } status
                && status.Json.GetProperty("refunds").EnumerateArray().All(refund => refund.GetProperty("booked").GetBoolean())
                && status.Json.GetProperty("refunded").GetDecimal() == 4.00m,
            "the refund to be booked after the restart");

        // Asked again by its key, the refund is the same one: nothing more goes back.
        var again = await household.RunAsync("refund", id, "--amount", "4.00", "--key", "r-1", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(4.00m, again.Json.GetProperty("refunded").GetDecimal());
        Assert.Single(again.Json.GetProperty("refunds").EnumerateArray());
        var over = await household.RunAsync("refund", id, "--amount", "6.00", "--key", "r-2", "--json");
        Assert.Equal("over_refund", over.Json.GetProperty("error").GetProperty("code").GetString());

        var ledger = await household.LedgerCheckAsync();
        Assert.Equal(1, ledger.GetProperty("charges").GetInt32());
        Assert.Equal(9.90m, ledger.GetProperty("chargedByCurrency").GetProperty("EUR").GetDecimal());
        Assert.Equal(1, ledger.GetProperty("refunds").GetInt32());
        Assert.Equal(4.00m, ledger.GetProperty("refundedByCurrency").GetProperty("EUR").GetDecimal());
        Assert.Equal((2, 0), (ledger.GetProperty("evidence").GetProperty("signed").GetInt32(), ledger.GetProperty("evidence").GetProperty("none").GetInt32()));
    }

    [Theory]
    [InlineData("displayed")]
    [InlineData(FaultPoints.ApprovedNotSent)]
    public async Task A_payer_agent_killed_at_each_step_gets_the_sheet_back_and_the_payment_completes_once(string step)
    {
        var pausing = step == "displayed" ? null : step;
        await using var household = await CrashHousehold.StartAsync(payerFault: pausing);
        var order = "payer-crash-" + step;
        var id = household.PaymentIdOf(order);
        var pay = await household.PayAsync(order);
        Assert.True(pay.ExitCode == 0, pay.ToString());
        await household.WaitForOfferAsync(id);

        if (pausing is null)
        {
            await household.Payer!.KillAsync();
        }
        else
        {
            var approving = household.ApproveAsync(id);
            await household.Payer!.WaitForOutputAsync($"fault point {step} reached", TimeSpan.FromSeconds(60));
            await household.Payer.KillAsync();
            Assert.NotEqual(0, (await approving).ExitCode);
        }

        Assert.Equal("Displayed", (await household.RunAsync("status", id, "--json")).Json.GetProperty("state").GetString());
        await household.StartPayerAsync();

        // Recovery offers the payment again to the restarted phone; the person verifies it there.
        await household.WaitForOfferAsync(id);
        var approved = await household.ApproveAsync(id);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal("Completed", approved.Json.GetProperty("state").GetString());
        var ledger = await household.LedgerCheckAsync();
        Assert.Equal(1, ledger.GetProperty("charges").GetInt32());
    }
}
