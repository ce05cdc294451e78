using Handoff.Grains;

namespace Handoff.Cli.Tests;

/// <summary>
/// Household rules with real processes: <c>handoff rules</c> on the hub, a member's request that a guardian approves
/// across a <c>kill -9</c> of the hub (charged exactly once, both signatures kept and checked by <c>handoff ledger check</c>),
/// and the refusals of rules that ask no guardian. Alice (guardian) has phone-1; Bob (member) has the TV.
/// </summary>
public sealed class RuleCommandTests
{
    [Theory]
    [InlineData("displayed")]
    [InlineData(FaultPoints.AuthorizedNotCharged)]
    public async Task A_guardians_approval_outlives_a_hub_killed_at_each_step_and_completes_exactly_once(string step)
    {
        var pausing = step == "displayed" ? null : step;
        await using var household = await CrashHousehold.StartAsync(hubFault: pausing);
        await PeopleAsync(household);
        var order = "guardian-" + step;
        var id = household.PaymentIdOf(order);

        var pay = await household.PayAsync(order);
        Assert.True(pay.ExitCode == 0, pay.ToString());
        Assert.Equal(("bob", "noBudget", true), (pay.Json.GetProperty("askedBy").GetProperty("id").GetString(), pay.Json.GetProperty("rule").GetProperty("code").GetString(), pay.Json.GetProperty("awaitsGuardian").GetBoolean()));
        var deadline = pay.Json.GetProperty("deadline").GetDateTimeOffset();
        Assert.InRange(deadline - pay.Json.GetProperty("createdAt").GetDateTimeOffset(), TimeSpan.FromHours(24), TimeSpan.FromHours(24));
        await household.KillHubAtAsync(id, pausing);
        await household.RestartHubAsync();
        var recovered = await household.RunAsync("status", id, "--json");
        Assert.True(recovered.ExitCode == 0, recovered.ToString());
        Assert.Equal(deadline, recovered.Json.GetProperty("deadline").GetDateTimeOffset());
        if (recovered.Json.GetProperty("state").GetString() != "Completed")
        {
            // The request waits for the guardian as long as before the crash: recovery offers it to her phone again.
            await household.WaitForOfferAsync(id);
            var approved = await household.ApproveAsync(id);
            Assert.True(approved.ExitCode == 0, approved.ToString());
        }

        var completed = await household.WaitForStateAsync(id, "Completed");
        Assert.Equal(1, completed.GetProperty("history").EnumerateArray().Count(transition => transition.GetProperty("to").GetString() == "Completed"));
        Assert.Equal("alice", completed.GetProperty("approvedBy").GetProperty("id").GetString());
        Assert.False(completed.GetProperty("awaitsGuardian").GetBoolean());
        var again = await household.ApproveAsync(id);
        Assert.NotEqual(0, again.ExitCode);

        // The check verifies the TV's signed request and Alice's signed approval kept with the payment.
        var ledger = await household.LedgerCheckAsync();
        Assert.Equal(1, ledger.GetProperty("charges").GetInt32());
        Assert.Empty(ledger.GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task The_hub_sets_rules_and_a_member_whose_rules_ask_no_guardian_is_refused_by_code()
    {
        await using var household = await CrashHousehold.StartAsync();
        await PeopleAsync(household);
        await SucceedsAsync(household, "programs", "add", "--id", "wallet", "--device", "phone-1", "--name", "Family wallet", "--kind", "wallet", "--currency", "EUR");
        await SucceedsAsync(household, "programs", "top-up", "wallet", "--amount", "100.00", "--key", "seed");
        Assert.Equal("Asia/Shanghai", (await SucceedsAsync(household, "rules", "timezone", "Asia/Shanghai")).GetProperty("timeZone").GetString());

        var set = await SucceedsAsync(household, "rules", "set", "bob", "--budget", "20.00", "--currency", "EUR", "--from", "wallet", "--ceiling", "15.00", "--guardian-merchant", "Game Shop", "--guardian-category", "games", "--no-guardians");
        var budget = set.GetProperty("budgets")[0];
        Assert.Equal((20.00m, "wallet", 15.00m, 20.00m), (budget.GetProperty("monthly").GetDecimal(), budget.GetProperty("from").GetString(), budget.GetProperty("ceiling").GetDecimal(), budget.GetProperty("left").GetDecimal()));
        Assert.False(set.GetProperty("askGuardians").GetBoolean());
        var listed = await SucceedsAsync(household, "rules");
        Assert.Equal(("Asia/Shanghai", "bob"), (listed.GetProperty("timeZone").GetString(), listed.GetProperty("members")[0].GetProperty("member").GetString()));
        Assert.Equal(["Game Shop"], listed.GetProperty("members")[0].GetProperty("guardianMerchants").EnumerateArray().Select(merchant => merchant.GetString()));

        // Over the ceiling: budget_exceeded. Within it, but phone-1 is Alice's, not Bob's: not_allowed. Neither is created.
        var over = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "16.00", "--currency", "EUR", "--merchant", "Toy Shop", "--order", "over", "--json");
        var games = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "1.00", "--currency", "EUR", "--merchant", "Toy Shop", "--category", "games", "--order", "games", "--json");
        Assert.Equal((1, "budget_exceeded"), (over.ExitCode, over.Json.GetProperty("error").GetProperty("code").GetString()));
        Assert.Contains("over Bob's ceiling of 15.00 EUR per payment", over.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal((1, "not_allowed"), (games.ExitCode, games.Json.GetProperty("error").GetProperty("code").GetString()));
        Assert.NotEqual(0, (await household.RunAsync("status", household.PaymentIdOf("over"), "--json")).ExitCode);

        // A wrong budget names its field; the hub's token is needed to set rules at all.
        var bad = await household.RunAsync("rules", "set", "bob", "--budget", "ten", "--currency", "EUR", "--from", "wallet", "--json");
        Assert.Equal(("invalid_amount", "budget"), (bad.Json.GetProperty("error").GetProperty("code").GetString(), bad.Json.GetProperty("error").GetProperty("field").GetString()));
        var zone = await household.RunAsync("rules", "timezone", "Mars/Olympus", "--json");
        Assert.Equal(("validation", "timeZone"), (zone.Json.GetProperty("error").GetProperty("code").GetString(), zone.Json.GetProperty("error").GetProperty("field").GetString()));
        var ledger = await household.LedgerCheckAsync();
        Assert.Empty(ledger.GetProperty("violations").EnumerateArray());
    }

    private static async Task PeopleAsync(CrashHousehold household)
    {
        await SucceedsAsync(household, "members", "add", "alice", "--name", "Alice", "--role", "guardian");
        await SucceedsAsync(household, "members", "add", "bob", "--name", "Bob", "--role", "member");
        await SucceedsAsync(household, "members", "assign", "alice", "--device", "phone-1");
        await SucceedsAsync(household, "members", "assign", "bob", "--device", "tv-1");
    }

    private static async Task<System.Text.Json.JsonElement> SucceedsAsync(CrashHousehold household, params string[] args)
    {
        var result = await household.RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
