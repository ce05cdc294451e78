namespace Handoff.Cli.Tests;

/// <summary>Wrong PINs on a real payer agent: the lock they earn outlives a restart of the agent.</summary>
public sealed class PinLockoutTests
{
    private const string WrongPin = "0000";

    [Fact]
    public async Task Five_wrong_pins_lock_the_phone_and_a_restarted_agent_is_still_locked()
    {
        await using var household = await CrashHousehold.StartAsync();

        // Three wrong PINs decline the first payment (the device declines it, not the person).
        var first = await OfferAsync(household, "lock-1");
        Assert.Equal("wrong_pin", await ErrorOfAsync(household, first, WrongPin));
        Assert.Equal("wrong_pin", await ErrorOfAsync(household, first, WrongPin));
        Assert.Equal("declined", await ErrorOfAsync(household, first, WrongPin));

        // Two more on the next payment make five in a row: the phone locks.
        var second = await OfferAsync(household, "lock-2");
        Assert.Equal("wrong_pin", await ErrorOfAsync(household, second, WrongPin));
        Assert.Equal("locked", await ErrorOfAsync(household, second, WrongPin));
        Assert.True(File.Exists(Path.Combine(household.KeysDirectory, "phone-1.pin-attempts.json")));

        // Killed and started again, the agent keeps the lock: even the right PIN is refused, nothing is charged.
        await household.Payer!.KillAsync();
        await household.StartPayerAsync();
        var third = await OfferAsync(household, "lock-3");
        Assert.Equal("locked", await ErrorOfAsync(household, third, CrashHousehold.Pin));
        Assert.Equal("Displayed", (await household.RunAsync("status", third, "--json")).Json.GetProperty("state").GetString());
        Assert.Equal(0, (await household.LedgerCheckAsync()).GetProperty("charges").GetInt32());
    }

    private static async Task<string> OfferAsync(CrashHousehold household, string order)
    {
        var pay = await household.PayAsync(order);
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var id = household.PaymentIdOf(order);
        await household.WaitForOfferAsync(id);
        return id;
    }

    private static async Task<string> ErrorOfAsync(CrashHousehold household, string paymentId, string pin)
    {
        var approve = await household.RunAsync("approve", paymentId, "--pin", pin, "--payer-url", household.PayerUrl, "--json");
        Assert.True(approve.ExitCode != 0, approve.ToString());
        return approve.Json.GetProperty("error").GetProperty("code").GetString()!;
    }
}
