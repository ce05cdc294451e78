using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Handoff.Contracts.Security;

namespace Handoff.Cli.Tests;

/// <summary>A household with mutual TLS: only processes holding the household's certificate join or connect.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-tls-").FullName;
    private readonly string _household = "tls-" + Guid.NewGuid().ToString("n")[..8];
    private readonly int _hubSiloPort = LoopbackPorts.Reserve();
    private readonly int _gatewayPort = LoopbackPorts.Reserve();
    private CliProcess? _hub;
    private CliProcess? _payer;

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
        foreach (var process in new[] { _payer, _hub })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_tls_household_accepts_its_certificate_and_refuses_clients_without_it()
    {
        Assert.Contains("TLS on", _hub!.Output, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Certificate));
        }

        var trusted = await RunAsync("devices", "--json", "--certificate", Certificate);
        Assert.True(trusted.ExitCode == 0, trusted.ToString());

        var without = await RunAsync("devices", "--json");
        Assert.Equal(1, without.ExitCode);
        Assert.Equal("unavailable", without.Json.GetProperty("error").GetProperty("code").GetString());

        var stranger = Path.Combine(_folder, "stranger.pfx");
        using (var other = HouseholdCertificate.Create("somebody-else"))
        {
            await File.WriteAllBytesAsync(stranger, other.Export(X509ContentType.Pkcs12));
        }

        var wrong = await RunAsync("devices", "--json", "--certificate", stranger);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal("unavailable", wrong.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_payer_silo_with_the_certificate_joins_over_tls_and_a_handoff_completes()
    {
        var keys = Path.Combine(_folder, "keys");
        var payerHttp = LoopbackPorts.Reserve();
        _payer = await CliProcess.StartAsync(
            "payer", "payer", "--household", _household, "--device", "phone-1", "--pin", "8642", "--pair", await CodeAsync(), "--keys", keys,
            "--certificate", Certificate, "--hub-silo", $"127.0.0.1:{_hubSiloPort}", "--silo-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(payerHttp));
        await WaitForAsync(async () => (await RunAsync("devices", "--json", "--certificate", Certificate)).Json.GetArrayLength() == 1, "phone-1 to pair");

        // The TV is an Orleans client: its gateway connection is TLS with the same certificate.
        await using var initiator = await CliProcess.StartAsync(
            "initiator", "initiator", "--household", _household, "--device", "tv-1", "--pair", await CodeAsync(), "--keys", keys,
            "--certificate", Certificate, "--gateway", $"127.0.0.1:{_gatewayPort}", "--http-port", Port(LoopbackPorts.Reserve()));
        await WaitForAsync(async () => (await RunAsync("devices", "--json", "--certificate", Certificate)).Json.EnumerateArray().Count(d => d.GetProperty("online").GetBoolean()) == 2, "both devices online over TLS");

        var pay = await RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "2.50", "--currency", "EUR", "--merchant", "Kiosk", "--keys", keys, "--certificate", Certificate, "--json");
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var id = pay.Json.GetProperty("paymentId").GetString()!;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{payerHttp}") };
        await WaitForAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/offers")).GetArrayLength() == 1, "the offer on the phone");
        var approve = await RunAsync("approve", id, "--pin", "8642", "--payer-url", http.BaseAddress!.ToString(), "--keys", keys, "--json");
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Equal("Completed", approve.Json.GetProperty("state").GetString());
    }

    private async Task<string> CodeAsync()
    {
        var pair = await RunAsync("pair", "--json", "--data", Data, "--certificate", Certificate);
        Assert.True(pair.ExitCode == 0, pair.ToString());
        return pair.Json.GetProperty("code").GetString()!;
    }

    private Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(new Dictionary<string, string> { ["HANDOFF_DATA"] = Data }, [.. args, "--household", _household, "--gateway", $"127.0.0.1:{_gatewayPort}"]);

    private Task WaitForAsync(Func<Task<bool>> condition, string what) =>
        BoundedWait.UntilAsync(condition, what, TimeSpan.FromSeconds(60), () => $"--- hub ---\n{_hub?.Output}\n--- payer ---\n{_payer?.Output}");

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
