using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Handoff.Cli.Tests;

/// <summary>
/// Cluster mode against a real PostgreSQL server: two hubs, a payer agent and an initiator agent as
/// processes on loopback, one cluster through the database's membership table.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresClusterTests(PostgresServer postgres)
{
    [Fact]
    public async Task Two_hubs_and_a_payer_on_postgres_complete_handoffs_and_the_ledger_check_passes()
    {
        var database = await postgres.CreateUniqueDatabaseAsync("cluster");
        var household = "pg-" + Guid.NewGuid().ToString("n")[..8];
        string[] cluster = ["--household", household, "--postgres", database];
        var keys = Directory.CreateTempSubdirectory("handoff-pg-keys-").FullName;
        // The hub owner's commands find its admin token in its data folder.
        var owner = new Dictionary<string, string> { ["HANDOFF_DATA"] = Path.Combine(keys, "hub") };

        var init = await CliRunner.RunAsync(owner, ["db", "init", "--json", .. cluster]);
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Equal(init.Json.GetProperty("latest").GetInt32(), init.Json.GetProperty("schemaVersion").GetInt32());
        var again = await CliRunner.RunAsync(owner, ["db", "init", "--json", .. cluster]);
        Assert.Equal(init.Json.GetProperty("schemaVersion").GetInt32(), again.Json.GetProperty("schemaVersion").GetInt32());

        var payerHttp = LoopbackPorts.Reserve();
        cluster = [.. cluster, "--keys", keys];
        async Task<string> PairingCodeAsync()
        {
            var pair = await CliRunner.RunAsync(owner, ["pair", "--json", "--data", Path.Combine(keys, "hub"), .. cluster]);
            Assert.True(pair.ExitCode == 0, pair.ToString());
            return pair.Json.GetProperty("code").GetString()!;
        }

        await using var hubA = await CliProcess.StartAsync("hub-a", ["hub", "--storage", "postgres", "--data", Path.Combine(keys, "hub"), .. Ports(), .. cluster]);
        await using var hubB = await CliProcess.StartAsync("hub-b", ["hub", "--storage", "postgres", "--data", Path.Combine(keys, "hub"), .. Ports(), .. cluster]);
        await using var payer = await CliProcess.StartAsync(
            "payer", ["payer", "--device", "phone-1", "--pin", "1357", "--pair", await PairingCodeAsync(), "--silo-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(payerHttp), .. cluster]);
        await WaitForAsync(
            async () => (await CliRunner.RunAsync(owner, ["devices", "--json", .. cluster])).Json.EnumerateArray().Any(device => device.GetProperty("online").GetBoolean()),
            "phone-1 paired");
        await using var initiator = await CliProcess.StartAsync(
            "initiator", ["initiator", "--device", "tv-1", "--pair", await PairingCodeAsync(), "--http-port", Port(LoopbackPorts.Reserve()), .. cluster]);
        await WaitForAsync(
            async () =>
            {
                var devices = await CliRunner.RunAsync(owner, ["devices", "--json", .. cluster]);
                return devices.ExitCode == 0 && devices.Json.EnumerateArray().Count(device => device.GetProperty("online").GetBoolean()) == 2;
            },
            "phone-1 and tv-1 online in the PostgreSQL cluster");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{payerHttp}") };
        for (var i = 1; i <= 3; i++)
        {
            var pay = await CliRunner.RunAsync(owner, ["pay", "--from", "tv-1", "--to", "phone-1", "--amount", $"{i}.25", "--currency", "CNY", "--merchant", "Noodle Bar", "--json", .. cluster]);
            Assert.True(pay.ExitCode == 0, pay.ToString());
            var id = pay.Json.GetProperty("paymentId").GetString()!;
            await WaitForAsync(
                async () => (await http.GetFromJsonAsync<JsonElement>("/api/offers")).EnumerateArray().Any(offer => offer.GetProperty("paymentId").GetString() == id),
                $"payment {id} on the phone");
            var approve = await CliRunner.RunAsync(owner, ["approve", id, "--pin", "1357", "--payer-url", http.BaseAddress!.ToString(), "--json", .. cluster]);
            Assert.True(approve.ExitCode == 0, approve.ToString());
            Assert.Equal("Completed", approve.Json.GetProperty("state").GetString());
        }

        var check = await CliRunner.RunAsync(owner, ["ledger", "check", "--json", .. cluster]);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal(3, check.Json.GetProperty("charges").GetInt32());
        Assert.Equal(1.25m + 2.25m + 3.25m, check.Json.GetProperty("chargedByCurrency").GetProperty("CNY").GetDecimal());

        // Each charge's row in PostgreSQL carries the request and the approval, verified from the row alone.
        Assert.Equal((3, 0), (check.Json.GetProperty("evidence").GetProperty("signed").GetInt32(), check.Json.GetProperty("evidence").GetProperty("none").GetInt32()));
    }

    private static string[] Ports() =>
        ["--silo-port", Port(LoopbackPorts.Reserve()), "--gateway-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(LoopbackPorts.Reserve())];

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static Task WaitForAsync(Func<Task<bool>> condition, string what) => BoundedWait.UntilAsync(condition, what, TimeSpan.FromSeconds(90));
}
