using System.Globalization;

namespace Handoff.Cli.Tests;

/// <summary>A real household on loopback: hub, payer agent (phone-1) and initiator agent (tv-1) as separate processes.</summary>
public sealed class HouseholdProcesses : IAsyncLifetime
{
    public const string Pin = "4321";

    public string Household { get; } = "e2e-" + Guid.NewGuid().ToString("n")[..8];

    public int HubSiloPort { get; } = LoopbackPorts.Reserve();

    public int GatewayPort { get; } = LoopbackPorts.Reserve();

    public int PayerHttpPort { get; } = LoopbackPorts.Reserve();

    public int HubHttpPort { get; } = LoopbackPorts.Reserve();

    public int InitiatorHttpPort { get; } = LoopbackPorts.Reserve();

    public CliProcess Hub { get; private set; } = null!;

    public CliProcess Payer { get; private set; } = null!;

    public CliProcess Initiator { get; private set; } = null!;

    public string Gateway => $"127.0.0.1:{GatewayPort}";

    public string PayerUrl => $"http://127.0.0.1:{PayerHttpPort}";

    /// <summary>The hub's data folder and the devices' key folder, private to this household.</summary>
    public string Folder { get; } = Directory.CreateTempSubdirectory("handoff-e2e-").FullName;

    public string DataDirectory => Path.Combine(Folder, "hub");

    public string KeysDirectory => Path.Combine(Folder, "keys");

    public async Task InitializeAsync()
    {
        Hub = await CliProcess.StartAsync(
            "hub", "hub", "--household", Household, "--data", DataDirectory, "--silo-port", Port(HubSiloPort), "--gateway-port", Port(GatewayPort), "--http-port", Port(HubHttpPort));
        Payer = await CliProcess.StartAsync(
            "payer", "payer", "--household", Household, "--device", "phone-1", "--name", "Test phone", "--pin", Pin, "--pair", await PairingCodeAsync(),
            "--keys", KeysDirectory, "--hub-silo", $"127.0.0.1:{HubSiloPort}", "--silo-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(PayerHttpPort));
        await WaitForAsync(async () => await OnlineCountAsync() == 1, "phone-1 to pair and come online");
        Initiator = await CliProcess.StartAsync(
            "initiator", "initiator", "--household", Household, "--device", "tv-1", "--name", "Test TV", "--pair", await PairingCodeAsync(),
            "--keys", KeysDirectory, "--gateway", Gateway, "--http-port", Port(InitiatorHttpPort));
        await WaitForAsync(async () => await OnlineCountAsync() == 2, "phone-1 and tv-1 to be paired and online");
    }

    /// <summary>A one-time pairing code from the hub, as its owner gets one with <c>handoff pair</c>.</summary>
    public async Task<string> PairingCodeAsync()
    {
        var pair = await CliRunner.RunAsync("pair", "--json", "--household", Household, "--gateway", Gateway, "--data", DataDirectory);
        Assert.True(pair.ExitCode == 0, pair.ToString());
        return pair.Json.GetProperty("code").GetString()!;
    }

    private async Task<int> OnlineCountAsync()
    {
        var devices = await RunAsync("devices", "--json");
        return devices.ExitCode == 0 ? devices.Json.EnumerateArray().Count(device => device.GetProperty("online").GetBoolean()) : 0;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in new[] { Initiator, Payer, Hub })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        Directory.Delete(Folder, recursive: true);
    }

    /// <summary>Runs <c>handoff</c> against this household.</summary>
    public Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(new Dictionary<string, string> { ["HANDOFF_DATA"] = DataDirectory }, [.. args, "--household", Household, "--gateway", Gateway, "--keys", KeysDirectory]);

    public Task WaitForAsync(Func<Task<bool>> condition, string what) => BoundedWait.UntilAsync(
        condition,
        what,
        TimeSpan.FromSeconds(60),
        () => $"--- hub ---\n{Hub.Output}\n--- payer ---\n{Payer.Output}\n--- initiator ---\n{Initiator.Output}");

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class HouseholdProcessesCollection : ICollectionFixture<HouseholdProcesses>
{
    public const string Name = "household processes";
}
