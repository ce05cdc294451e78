using System.Globalization;

namespace Handoff.Cli.Tests;

/// <summary>A real household on loopback: hub, payer agent (phone-1) and initiator agent (tv-1) as separate processes.</summary>
public sealed class HouseholdProcesses : IAsyncLifetime
{
    public const string Pin = "4321";

    public string Household { get; } = "e2e-" + Guid.NewGuid().ToString("n")[..8];

    public int HubSiloPort { get; } = Cli.FreePort();

    public int GatewayPort { get; } = Cli.FreePort();

    public int PayerHttpPort { get; } = Cli.FreePort();

    public CliProcess Hub { get; private set; } = null!;

    public CliProcess Payer { get; private set; } = null!;

    public CliProcess Initiator { get; private set; } = null!;

    public string Gateway => $"127.0.0.1:{GatewayPort}";

    public string PayerUrl => $"http://127.0.0.1:{PayerHttpPort}";

    public async Task InitializeAsync()
    {
        Hub = await CliProcess.StartAsync(
            "hub", "hub", "--household", Household, "--silo-port", Port(HubSiloPort), "--gateway-port", Port(GatewayPort), "--http-port", Port(Cli.FreePort()));
        var payer = CliProcess.StartAsync(
            "payer", "payer", "--household", Household, "--device", "phone-1", "--name", "Test phone", "--pin", Pin,
            "--hub-silo", $"127.0.0.1:{HubSiloPort}", "--silo-port", Port(Cli.FreePort()), "--http-port", Port(PayerHttpPort));
        var initiator = CliProcess.StartAsync(
            "initiator", "initiator", "--household", Household, "--device", "tv-1", "--name", "Test TV", "--gateway", Gateway, "--http-port", Port(Cli.FreePort()));
        Payer = await payer;
        Initiator = await initiator;
        await WaitForAsync(async () =>
        {
            var devices = await RunAsync("devices", "--json");
            return devices.ExitCode == 0 && devices.Json.EnumerateArray().Count(device => device.GetProperty("online").GetBoolean()) == 2;
        }, "phone-1 and tv-1 to be registered and online");
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
    }

    /// <summary>Runs <c>handoff</c> against this household.</summary>
    public Task<CliResult> RunAsync(params string[] args) =>
        Cli.RunAsync([.. args, "--household", Household, "--gateway", Gateway]);

    public async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}\n--- hub ---\n{Hub.Output}\n--- payer ---\n{Payer.Output}\n--- initiator ---\n{Initiator.Output}");
            }

            await Task.Delay(200);
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class HouseholdProcessesCollection : ICollectionFixture<HouseholdProcesses>
{
    public const string Name = "household processes";
}
