using System.Text.Json;

namespace Handoff.Cli.Tests;

/// <summary>Payment programs on a real household: the wallet that has too little refuses, the card pays, a top-up books once.</summary>
public sealed class ProgramTests
{
    [Fact]
    public async Task A_wallet_with_too_little_refuses_the_card_pays_and_a_repeated_top_up_books_once()
    {
        await using var household = await CrashHousehold.StartAsync();
        await SucceedsAsync(household, "programs", "add", "--id", "wallet", "--device", "phone-1", "--name", "Test wallet", "--kind", "wallet", "--currency", "CNY");
        await SucceedsAsync(household, "programs", "top-up", "wallet", "--amount", "20.00", "--key", "seed-1");
        await SucceedsAsync(household, "programs", "add", "--id", "card", "--device", "phone-1", "--name", "Test card", "--kind", "card", "--currency", "CNY", "--limit", "100.00");

        var pay = await SucceedsAsync(household, "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "30.00", "--currency", "CNY", "--merchant", "Book Shop");
        var paymentId = pay.GetProperty("paymentId").GetString()!;
        await household.WaitForOfferAsync(paymentId);

        var fromWallet = await household.RunAsync("approve", paymentId, "--pin", CrashHousehold.Pin, "--program", "wallet", "--payer-url", household.PayerUrl, "--json");
        Assert.True(fromWallet.ExitCode == 1, fromWallet.ToString());
        Assert.Equal("insufficient_funds", fromWallet.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Displayed", (await SucceedsAsync(household, "status", paymentId)).GetProperty("state").GetString());

        var fromCard = await SucceedsAsync(household, "approve", paymentId, "--pin", CrashHousehold.Pin, "--program", "card", "--payer-url", household.PayerUrl);
        Assert.Equal("Completed", fromCard.GetProperty("state").GetString());
        Assert.Equal("card", fromCard.GetProperty("program").GetString());

        var again = await SucceedsAsync(household, "programs", "top-up", "wallet", "--amount", "20.00", "--key", "seed-1");
        Assert.Equal(20.00m, again.GetProperty("balance").GetDecimal());

        var programs = (await SucceedsAsync(household, "programs", "--device", "phone-1")).EnumerateArray().ToDictionary(program => program.GetProperty("id").GetString()!);
        Assert.Equal(["card", "wallet"], programs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(20.00m, programs["wallet"].GetProperty("balance").GetDecimal());
        Assert.Equal("wallet", programs["wallet"].GetProperty("kind").GetString());
        Assert.Equal(0m, programs["wallet"].GetProperty("limit").GetDecimal());
        Assert.Equal(-30.00m, programs["card"].GetProperty("balance").GetDecimal());
        Assert.Equal(100.00m, programs["card"].GetProperty("limit").GetDecimal());
        Assert.Equal("phone-1", programs["card"].GetProperty("device").GetString());
        Assert.Equal("CNY", programs["card"].GetProperty("currency").GetString());
        Assert.Equal("Test card", programs["card"].GetProperty("name").GetString());

        await SucceedsAsync(household, "programs", "remove", "card");
        var left = await SucceedsAsync(household, "programs");
        Assert.Equal(["wallet"], left.EnumerateArray().Select(program => program.GetProperty("id").GetString()));

        var badAmount = await household.RunAsync("programs", "top-up", "wallet", "--amount", "ten", "--json");
        Assert.True(badAmount.ExitCode == 1, badAmount.ToString());
        Assert.Equal("invalid_amount", badAmount.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("amount", badAmount.Json.GetProperty("error").GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_kind_of_program_that_is_not_one_lists_the_kinds_there_are()
    {
        var text = await CliRunner.RunAsync("programs", "add", "--id", "p", "--device", "phone-1", "--name", "P", "--kind", "bank", "--currency", "CNY");

        Assert.True(text.ExitCode == 2, text.ToString());
        Assert.Equal("error: --kind: 'bank' is not one of card, wallet (see 'handoff programs add --help')", text.Stderr.TrimEnd());
    }

    private static async Task<JsonElement> SucceedsAsync(CrashHousehold household, params string[] args)
    {
        var result = await household.RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
