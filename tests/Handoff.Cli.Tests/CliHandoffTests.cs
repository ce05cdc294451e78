using System.Net.Http.Json;
using System.Text.Json;

namespace Handoff.Cli.Tests;

[Collection(HouseholdProcessesCollection.Name)]
public sealed class CliHandoffTests(HouseholdProcesses household)
{
    [Fact]
    public async Task Devices_lists_both_devices_with_kind_role_capabilities_and_presence()
    {
        var result = await household.RunAsync("devices", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var devices = result.Json.EnumerateArray().ToDictionary(device => device.GetProperty("id").GetString()!);
        Assert.Equal("phone", devices["phone-1"].GetProperty("kind").GetString());
        Assert.Equal("payer", devices["phone-1"].GetProperty("role").GetString());
        Assert.True(devices["phone-1"].GetProperty("capabilities").GetProperty("canPay").GetBoolean());
        Assert.True(devices["phone-1"].GetProperty("online").GetBoolean());
        Assert.Equal("tv", devices["tv-1"].GetProperty("kind").GetString());
        Assert.Equal("initiator", devices["tv-1"].GetProperty("role").GetString());
        Assert.False(devices["tv-1"].GetProperty("capabilities").GetProperty("canPay").GetBoolean());
    }

    [Fact]
    public async Task Pay_then_approve_through_the_payer_agent_completes_across_processes()
    {
        var pay = await household.RunAsync(
            "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "12.50", "--currency", "CNY", "--merchant", "Tea House", "--json");
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var paymentId = pay.Json.GetProperty("paymentId").GetString()!;
        Assert.Equal("Displayed", pay.Json.GetProperty("state").GetString());

        // The offer reached the phone's own process by push: its local API shows it.
        using var http = new HttpClient { BaseAddress = new Uri(household.PayerUrl) };
        await household.WaitForAsync(
            async () => (await http.GetFromJsonAsync<JsonElement>("/api/offers")).EnumerateArray().Any(o => o.GetProperty("paymentId").GetString() == paymentId),
            $"payment {paymentId} on the phone's sheet");
        await household.WaitForAsync(() => Task.FromResult(household.Payer.Output.Contains(paymentId, StringComparison.Ordinal)), "the terminal sheet to show the payment");

        var wrong = await household.RunAsync("approve", paymentId, "--pin", "0000", "--payer-url", household.PayerUrl, "--json");
        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        Assert.Equal("wrong_pin", wrong.Json.GetProperty("error").GetProperty("code").GetString());

        var approve = await household.RunAsync("approve", paymentId, "--pin", HouseholdProcesses.Pin, "--payer-url", household.PayerUrl, "--json");
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Equal("Completed", approve.Json.GetProperty("state").GetString());

        var status = await household.RunAsync("status", paymentId, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("Completed", status.Json.GetProperty("state").GetString());
        Assert.Equal("phone-1", status.Json.GetProperty("payer").GetString());
        Assert.Equal("tv-1", status.Json.GetProperty("initiator").GetString());
        Assert.Equal(12.50m, status.Json.GetProperty("amount").GetDecimal());
        Assert.Equal(
            ["Created", "Offered", "Displayed", "Authorized", "Charging", "Completed"],
            status.Json.GetProperty("history").EnumerateArray().Select(step => step.GetProperty("to").GetString()));
    }

    [Fact]
    public async Task Pay_wait_follows_the_payment_and_exits_zero_when_it_completes()
    {
        var order = "wait-" + Guid.NewGuid().ToString("n");
        var paying = household.RunAsync(
            "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "3", "--currency", "EUR", "--merchant", "Bakery", "--order", order, "--wait");
        var id = await FindOfferAsync("Bakery", order);

        var approve = await household.RunAsync("approve", id, "--pin", HouseholdProcesses.Pin, "--payer-url", household.PayerUrl);

        Assert.True(approve.ExitCode == 0, approve.ToString());
        var paid = await paying;
        Assert.True(paid.ExitCode == 0, paid.ToString());
        Assert.Contains("Completed", paid.Stdout, StringComparison.Ordinal);
        Assert.Contains("Authorized", paid.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decline_on_the_phone_makes_a_waiting_pay_exit_one_with_code_declined()
    {
        var order = "decline-" + Guid.NewGuid().ToString("n");
        var paying = household.RunAsync(
            "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "7", "--currency", "EUR", "--merchant", "Cinema", "--order", order, "--wait", "--json");
        var id = await FindOfferAsync("Cinema", order);

        var decline = await household.RunAsync("decline", id, "--payer-url", household.PayerUrl, "--json");

        Assert.True(decline.ExitCode == 0, decline.ToString());
        Assert.Equal("Declined", decline.Json.GetProperty("state").GetString());
        var paid = await paying;
        Assert.True(paid.ExitCode == 1, paid.ToString());
        Assert.Equal("declined", paid.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Cancel_from_the_cli_ends_the_payment_cancelled()
    {
        var pay = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "1", "--currency", "USD", "--merchant", "Arcade", "--json");
        var id = pay.Json.GetProperty("paymentId").GetString()!;

        var cancel = await household.RunAsync("cancel", id, "--json");

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Equal("Cancelled", cancel.Json.GetProperty("state").GetString());
        var late = await household.RunAsync("approve", id, "--pin", HouseholdProcesses.Pin, "--payer-url", household.PayerUrl, "--json");
        Assert.Equal(1, late.ExitCode);
    }

    [Theory]
    [InlineData("not_found", 1, "pay", "--from", "tv-1", "--to", "phone-404", "--amount", "1", "--currency", "CNY", "--merchant", "Shop")]
    [InlineData("invalid_amount", 1, "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "ten", "--currency", "CNY", "--merchant", "Shop")]
    [InlineData("invalid_currency", 1, "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "1", "--currency", "yuan", "--merchant", "Shop")]
    [InlineData("validation", 2, "pay", "--from", "tv-1")]
    [InlineData("not_found", 1, "status", "pay-00000000000000000000")]
    public async Task Errors_are_one_json_object_with_a_stable_code_and_a_non_zero_exit(string code, int exitCode, params string[] args)
    {
        var result = await household.RunAsync([.. args, "--json"]);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Equal(code, result.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(result.Json.GetProperty("error").GetProperty("message").GetString()));
    }

    [Fact]
    public async Task A_text_error_is_one_line_on_stderr()
    {
        var result = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-404", "--amount", "1", "--currency", "CNY", "--merchant", "Shop");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal("error: payer: no device 'phone-404' in household '" + household.Household + "'", result.Stderr.TrimEnd());
    }

    private async Task<string> FindOfferAsync(string merchant, string order)
    {
        using var http = new HttpClient { BaseAddress = new Uri(household.PayerUrl) };
        string? id = null;
        await household.WaitForAsync(
            async () =>
            {
                var offers = await http.GetFromJsonAsync<JsonElement>("/api/offers");
                id = offers.EnumerateArray()
                    .Where(offer => offer.GetProperty("merchant").GetString() == merchant)
                    .Select(offer => offer.GetProperty("paymentId").GetString())
                    .FirstOrDefault();
                return id is not null;
            },
            $"the {merchant} offer (order {order}) on the phone");
        return id!;
    }
}
