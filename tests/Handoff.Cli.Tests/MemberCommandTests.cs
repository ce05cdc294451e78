using System.Text.Json;

namespace Handoff.Cli.Tests;

/// <summary><c>handoff members</c> on a household running as processes: people, roles and whose device is whose.</summary>
[Collection(HouseholdProcessesCollection.Name)]
public sealed class MemberCommandTests(HouseholdProcesses household)
{
    [Fact]
    public async Task The_hub_adds_people_gives_them_devices_and_every_change_shows_in_the_list()
    {
        await SucceedsAsync("members", "add", "alice", "--name", "Alice", "--role", "guardian");
        await SucceedsAsync("members", "add", "bob", "--name", "Bob", "--role", "member");
        await SucceedsAsync("members", "assign", "bob", "--device", "tv-1");
        await SucceedsAsync("members", "assign", "alice", "--device", "phone-1");
        var promoted = await SucceedsAsync("members", "role", "bob", "--role", "guardian");
        Assert.Equal("guardian", promoted.GetProperty("role").GetString());

        var members = (await SucceedsAsync("members")).EnumerateArray().ToDictionary(member => member.GetProperty("id").GetString()!);
        Assert.Equal(["alice", "bob"], members.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["phone-1"], members["alice"].GetProperty("devices").EnumerateArray().Select(device => device.GetString()));
        Assert.Equal(["tv-1"], members["bob"].GetProperty("devices").EnumerateArray().Select(device => device.GetString()));
        Assert.Equal("Alice", members["alice"].GetProperty("name").GetString());

        // Every place that lists devices says whose each one is: the CLI, the TV's shop (its payers) and the hub's page.
        var devices = (await SucceedsAsync("devices")).EnumerateArray().ToDictionary(device => device.GetProperty("id").GetString()!);
        Assert.Equal(("Alice", "Bob"), (devices["phone-1"].GetProperty("owner").GetString(), devices["tv-1"].GetProperty("owner").GetString()));
        using var http = new HttpClient();
        var payers = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{household.InitiatorHttpPort}/api/payers")).RootElement;
        Assert.Equal("Alice", payers.EnumerateArray().Single(payer => payer.GetProperty("id").GetString() == "phone-1").GetProperty("owner").GetString());
        var page = await http.GetStringAsync($"http://127.0.0.1:{household.HubHttpPort}/?household={household.Household}");
        Assert.Contains("<td class=\"person\">Alice<br><small>guardian</small></td>", page, StringComparison.Ordinal);

        // The same person under another name is a conflict, and a role that is not one names the roles there are.
        var conflict = await household.RunAsync("members", "add", "alice", "--name", "Alicia", "--role", "guardian", "--json");
        Assert.Equal((1, "conflict"), (conflict.ExitCode, conflict.Json.GetProperty("error").GetProperty("code").GetString()));
        var badRole = await household.RunAsync("members", "role", "bob", "--role", "boss");
        Assert.NotEqual(0, badRole.ExitCode);
        Assert.Contains("guardian", badRole.Stderr, StringComparison.Ordinal);
    }

    private async Task<JsonElement> SucceedsAsync(params string[] args)
    {
        var result = await household.RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
