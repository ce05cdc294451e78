using System.Globalization;
using Handoff.Contracts.Security;

namespace Handoff.Cli.Tests;

/// <summary>
/// <c>handoff load --gateway</c> against a household started as its own process (mutual TLS on): the simulated payer
/// devices join its cluster on the load process's silo, the initiators connect to its gateway, and the report and the
/// ledger check come out as for a household the load builds itself.
/// </summary>
public sealed class LoadGatewayTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-load-gateway-").FullName;
    private readonly string _household = "lg-" + Guid.NewGuid().ToString("n")[..8];
    private readonly int _hubSiloPort = LoopbackPorts.Reserve();
    private readonly int _gatewayPort = LoopbackPorts.Reserve();
    private CliProcess? _hub;

    private string Data => Path.Combine(_folder, "hub");

    private string Certificate => Path.Combine(Data, HouseholdCertificate.FileName);

    public async Task InitializeAsync()
    {
        _hub = await CliProcess.StartAsync(
            "hub", "hub", "--household", _household, "--tls", "on", "--data", Data, "--silo-port", Port(_hubSiloPort),
            "--gateway-port", Port(_gatewayPort), "--http-port", Port(LoopbackPorts.Reserve()));
    }

    public async Task DisposeAsync()
    {
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Load_drives_a_running_household_through_its_gateway_and_leaves_its_own_roster_alone()
    {
        var load = await Cli(
            "load", "--gateway", $"127.0.0.1:{_gatewayPort}", "--hub-silo", $"127.0.0.1:{_hubSiloPort}", "--data", Data,
            "--certificate", Certificate, "--households", "2", "--payers", "2", "--concurrency", "8", "--duration", "3",
            "--warmup", "1", "--json");

        Assert.True(load.ExitCode == 0, load.ToString());
        var report = load.Json;
        Assert.Equal("running", report.GetProperty("storage").GetString());
        var completed = report.GetProperty("completed").GetInt64();
        Assert.True(completed > 0, load.ToString());
        Assert.Equal(0, report.GetProperty("errors").GetInt64());
        Assert.True(report.GetProperty("ledger").GetProperty("clean").GetBoolean(), report.GetProperty("ledger").ToString());
        Assert.Equal(completed, report.GetProperty("ledger").GetProperty("charges").GetInt64());
        foreach (var phase in new[] { "timeToSheetMs", "approveToResultMs" })
        {
            Assert.True(report.GetProperty(phase).GetProperty("p99").GetDouble() > 0, $"{phase}: {report.GetProperty(phase)}");
        }

        // The run paired devices into households of its own: the household it was pointed at has none of them.
        var devices = await Cli("devices", "--json", "--certificate", Certificate, "--gateway", $"127.0.0.1:{_gatewayPort}");
        Assert.True(devices.ExitCode == 0, devices.ToString());
        Assert.Equal(0, devices.Json.GetArrayLength());

        // The hub carried the run and is still serving, and the load's silo left its cluster on the way out.
        Assert.Equal(0, (await Cli("pair", "--json", "--data", Data, "--certificate", Certificate, "--gateway", $"127.0.0.1:{_gatewayPort}")).ExitCode);
        await _hub!.StopAsync();
        Assert.DoesNotContain("Unhandled", _hub.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("storage", "load", "--gateway", "127.0.0.1:1", "--storage", "sqlite")]
    [InlineData("hub-silo", "load", "--hub-silo", "127.0.0.1:1")]
    [InlineData("gateway", "load", "--gateway", "nowhere")]
    public async Task Options_that_do_not_fit_a_running_household_are_refused_by_name(string field, params string[] args)
    {
        var refused = await Cli([.. args, "--data", Data, "--json"]);

        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(field, refused.Json.GetProperty("error").GetProperty("field").GetString());
    }

    private Task<CliResult> Cli(params string[] args) =>
        CliRunner.RunAsync(new Dictionary<string, string> { ["HANDOFF_DATA"] = Data }, [.. args, "--household", _household]);

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
