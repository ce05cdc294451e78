using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Handoff.Contracts;

namespace Handoff.Cli.Tests;

/// <summary>
/// A household of real processes on a SQLite store in a temp folder, built to be crashed: any process
/// can be killed with SIGKILL and started again on the same ports and the same store.
/// </summary>
public sealed class CrashHousehold : IAsyncDisposable
{
    public const string Pin = "2580";

    private readonly int _hubSiloPort = LoopbackPorts.Reserve();
    private readonly int _gatewayPort = LoopbackPorts.Reserve();
    private readonly int _hubHttpPort = LoopbackPorts.Reserve();
    private readonly int _payerSiloPort = LoopbackPorts.Reserve();
    private readonly int _payerHttpPort = LoopbackPorts.Reserve();
    private readonly int _initiatorHttpPort = LoopbackPorts.Reserve();

    public string Household { get; } = "crash-" + Guid.NewGuid().ToString("n")[..8];

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "handoff-crash-" + Guid.NewGuid().ToString("n"));

    public string KeysDirectory => Path.Combine(DataDirectory, "keys");

    public CliProcess? Hub { get; private set; }

    public CliProcess? Payer { get; private set; }

    public CliProcess? Initiator { get; private set; }

    public string PayerUrl => $"http://127.0.0.1:{_payerHttpPort}";

    /// <summary>The hub's page (<c>/</c>) and its other HTTP endpoints.</summary>
    public string HubUrl => $"http://127.0.0.1:{_hubHttpPort}";

    public static async Task<CrashHousehold> StartAsync(string? hubFault = null, string? payerFault = null)
    {
        var household = new CrashHousehold();
        await household.StartHubAsync(hubFault);
        await household.StartPayerAsync(payerFault, await household.PairingCodeAsync());
        await household.WaitForAsync(async () => (await household.DevicesOnlineAsync()) == 1, "phone-1 paired and online");
        await household.StartInitiatorAsync(await household.PairingCodeAsync());
        await household.WaitForAsync(async () => (await household.DevicesOnlineAsync()) == 2, "phone-1 and tv-1 online");
        return household;
    }

    public async Task StartHubAsync(string? fault = null)
    {
        Hub = await CliProcess.StartAsync(
            "hub",
            Environment(fault),
            "hub", "--household", Household, "--data", DataDirectory, "--silo-port", Port(_hubSiloPort),
            "--gateway-port", Port(_gatewayPort), "--http-port", Port(_hubHttpPort));
    }

    /// <summary>Starts the payer agent; a restart reuses the device's key and PIN files and needs no code.</summary>
    public async Task StartPayerAsync(string? fault = null, string? pairingCode = null)
    {
        string[] pairing = pairingCode is null ? [] : ["--pair", pairingCode, "--pin", Pin];
        Payer = await CliProcess.StartAsync(
            "payer",
            Environment(fault),
            ["payer", "--household", Household, "--device", "phone-1", "--keys", KeysDirectory, "--hub-silo", $"127.0.0.1:{_hubSiloPort}",
            "--silo-port", Port(_payerSiloPort), "--http-port", Port(_payerHttpPort), .. pairing]);
    }

    private async Task StartInitiatorAsync(string pairingCode)
    {
        Initiator = await CliProcess.StartAsync(
            "initiator", (IReadOnlyDictionary<string, string>?)null,
            "initiator", "--household", Household, "--device", "tv-1", "--pair", pairingCode, "--keys", KeysDirectory,
            "--gateway", $"127.0.0.1:{_gatewayPort}", "--http-port", Port(_initiatorHttpPort));
    }

    private async Task<string> PairingCodeAsync()
    {
        var pair = await CliRunner.RunAsync("pair", "--json", "--household", Household, "--gateway", $"127.0.0.1:{_gatewayPort}", "--data", DataDirectory);
        Assert.True(pair.ExitCode == 0, pair.ToString());
        return pair.Json.GetProperty("code").GetString()!;
    }

    /// <summary>Runs <c>handoff</c> against this household.</summary>
    public Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(new Dictionary<string, string> { ["HANDOFF_DATA"] = DataDirectory }, [.. args, "--household", Household, "--gateway", $"127.0.0.1:{_gatewayPort}", "--keys", KeysDirectory]);

    public string PaymentIdOf(string order) => PaymentIds.For(Household, "tv-1", order);

    public Task<CliResult> PayAsync(string order) =>
        RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "9.90", "--currency", "EUR", "--merchant", "Crash Cafe", "--order", order, "--json");

    public Task<CliResult> ApproveAsync(string paymentId) =>
        RunAsync("approve", paymentId, "--pin", Pin, "--payer-url", PayerUrl, "--json");

    public async Task<int> DevicesOnlineAsync()
    {
        var devices = await RunAsync("devices", "--json");
        return devices.ExitCode == 0 ? devices.Json.EnumerateArray().Count(device => device.GetProperty("online").GetBoolean()) : 0;
    }

    /// <summary>
    /// With <paramref name="paymentId"/> on the phone's sheet, kills the hub (<c>kill -9</c>): at once, or, for a hub
    /// started paused at <paramref name="fault"/>, once the phone's approval has brought it to that point.
    /// </summary>
    public async Task KillHubAtAsync(string paymentId, string? fault)
    {
        await WaitForOfferAsync(paymentId);
        if (fault is null)
        {
            await Hub!.KillAsync();
            return;
        }

        var approving = ApproveAsync(paymentId);
        await Hub!.WaitForOutputAsync($"fault point {fault} reached", TimeSpan.FromSeconds(60));
        await Hub.KillAsync();
        await approving;
    }

    /// <summary>Starts the hub again on its store and waits until both devices have rejoined it by themselves.</summary>
    public async Task RestartHubAsync()
    {
        await StartHubAsync();
        await WaitForAsync(async () => await DevicesOnlineAsync() == 2, "both devices online after the hub restart");
    }

    /// <summary>Waits until the payment is on the phone's sheet (shown, or shown again after recovery).</summary>
    public async Task WaitForOfferAsync(string paymentId)
    {
        using var http = new HttpClient { BaseAddress = new Uri(PayerUrl), Timeout = TimeSpan.FromSeconds(5) };
        await WaitForAsync(
            async () =>
            {
                try
                {
                    var offers = await http.GetFromJsonAsync<JsonElement>("/api/offers");
                    return offers.EnumerateArray().Any(offer => offer.GetProperty("paymentId").GetString() == paymentId);
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            },
            $"payment {paymentId} on the phone's sheet");
    }

    public async Task<JsonElement> WaitForStateAsync(string paymentId, string state)
    {
        JsonElement last = default;
        await WaitForAsync(
            async () =>
            {
                var status = await RunAsync("status", paymentId, "--json");
                if (status.ExitCode != 0)
                {
                    return false;
                }

                last = status.Json;
                return last.GetProperty("state").GetString() == state;
            },
            $"payment {paymentId} to be {state}");
        return last;
    }

    public async Task<JsonElement> LedgerCheckAsync()
    {
        var check = await CliRunner.RunAsync("ledger", "check", "--data", DataDirectory, "--json");
        Assert.True(check.ExitCode == 0, $"ledger check failed: {check}");
        return check.Json;
    }

    public Task WaitForAsync(Func<Task<bool>> condition, string what) =>
        BoundedWait.UntilAsync(condition, what, TimeSpan.FromSeconds(90), () => $"--- hub ---\n{Hub?.Output}\n--- payer ---\n{Payer?.Output}");

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { Initiator, Payer, Hub })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private static Dictionary<string, string> Environment(string? fault)
    {
        // Recovery ticks every 2 s instead of 30 s, so the tests see it act quickly.
        var environment = new Dictionary<string, string> { ["Handoff__RecoveryInterval"] = "00:00:02" };
        if (fault is not null)
        {
            environment["HANDOFF_FAULT_PAUSE"] = fault;
        }

        return environment;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
