using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Handoff.Web.Tests;

/// <summary>
/// A real household on loopback, as processes (hub, payer agent phone-1, initiator agent tv-1), and a headless
/// Chromium to open their pages in.
/// </summary>
public sealed class WebHousehold : IAsyncLifetime
{
    public const string Pin = "4321";
    public const string PhoneName = "Alice's phone";
    public const string TvName = "Living room TV";

    /// <summary>Where Chromium is expected (Debian's package); <c>HANDOFF_CHROMIUM</c> points elsewhere.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("HANDOFF_CHROMIUM") ?? "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public string Household { get; } = "web-" + Guid.NewGuid().ToString("n")[..8];

    public int HubSiloPort { get; } = LoopbackPorts.Reserve();

    public int GatewayPort { get; } = LoopbackPorts.Reserve();

    public int HubHttpPort { get; } = LoopbackPorts.Reserve();

    public int PayerHttpPort { get; } = LoopbackPorts.Reserve();

    public int InitiatorHttpPort { get; } = LoopbackPorts.Reserve();

    public CliProcess Hub { get; private set; } = null!;

    public CliProcess Payer { get; private set; } = null!;

    public CliProcess Initiator { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string Gateway => $"127.0.0.1:{GatewayPort}";

    public string HubUrl => $"http://127.0.0.1:{HubHttpPort}/?household={Household}";

    public string PayerUrl => $"http://127.0.0.1:{PayerHttpPort}/";

    /// <summary>The phone's page where its platform authenticator answers: WebAuthn takes localhost, never an IP, as relying party.</summary>
    public string PayerPageUrl => $"http://localhost:{PayerHttpPort}/";

    public string InitiatorUrl => $"http://127.0.0.1:{InitiatorHttpPort}/";

    public async Task InitializeAsync()
    {
        // A missing browser is a failure to fix, never a reason to skip: the page tests would prove nothing.
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium is missing at {ChromiumPath}: the browser tests need it. Install it with `apt-get install -y chromium` "
                + "(as root), or set HANDOFF_CHROMIUM to a Chromium binary. Never run `playwright install`: this machine is offline.");
        }

        var browser = StartBrowserAsync();
        Hub = await CliProcess.StartAsync(
            "hub", "hub", "--household", Household, "--silo-port", Port(HubSiloPort), "--gateway-port", Port(GatewayPort), "--http-port", Port(HubHttpPort));
        Payer = await StartPayerAsync("phone-1", PhoneName, PayerHttpPort);
        await WaitForAsync(() => IsOnlineAsync("phone-1"), "phone-1 to pair and come online");
        Initiator = await CliProcess.StartAsync(
            "initiator", "initiator", "--household", Household, "--device", "tv-1", "--name", TvName, "--pair", await PairingCodeAsync(),
            "--gateway", Gateway, "--http-port", Port(InitiatorHttpPort));
        Browser = await browser;
        await WaitForAsync(async () => await IsOnlineAsync("phone-1") && await IsOnlineAsync("tv-1"), "phone-1 and tv-1 to be registered and online");
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        foreach (var process in new[] { Initiator, Payer, Hub })
        {
            if (process is not null)
            {
                await process.DisposeAsync();

                // The processes' own words, kept beside the screenshots for a failure seen only in CI.
                await File.WriteAllTextAsync(Path.Combine(Screens.ArtifactsDirectory, $"{process.Name}.log"), process.Output);
            }
        }

        Directory.Delete(CliRunner.WorkDirectory, recursive: true);
    }

    /// <summary>Starts one more payer agent of this household, carrying <paramref name="deviceId"/>.</summary>
    public async Task<CliProcess> StartPayerAsync(string deviceId, string name, int httpPort) => await CliProcess.StartAsync(
        deviceId, "payer", "--household", Household, "--device", deviceId, "--name", name, "--pin", Pin, "--pair", await PairingCodeAsync(),
        "--hub-silo", $"127.0.0.1:{HubSiloPort}", "--silo-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(httpPort));

    /// <summary>Starts one more initiator agent of this household, carrying <paramref name="deviceId"/>.</summary>
    public async Task<CliProcess> StartInitiatorAsync(string deviceId, string name, int httpPort) => await CliProcess.StartAsync(
        deviceId, "initiator", "--household", Household, "--device", deviceId, "--name", name, "--pair", await PairingCodeAsync(),
        "--gateway", Gateway, "--http-port", Port(httpPort));

    /// <summary>A one-time pairing code from the hub, as its owner gets one with <c>handoff pair</c>.</summary>
    public async Task<string> PairingCodeAsync()
    {
        var pair = await RunAsync("pair", "--json");
        return pair.ExitCode == 0 ? pair.Json.GetProperty("code").GetString()! : throw new InvalidOperationException($"handoff pair failed: {pair}");
    }

    /// <summary>Runs <c>handoff</c> against this household.</summary>
    public Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync([.. args, "--household", Household, "--gateway", Gateway]);

    /// <summary>Whether the household reports the device online, as the initiator's page will see it.</summary>
    public async Task<bool> IsOnlineAsync(string deviceId)
    {
        var devices = await RunAsync("devices", "--json");
        return devices.ExitCode == 0
            && devices.Json.EnumerateArray().Any(device => device.GetProperty("id").GetString() == deviceId && device.GetProperty("online").GetBoolean());
    }

    /// <summary>The token an agent's launch wrote beside the device keys (every process here runs with the default <c>--keys</c>).</summary>
    public static string TokenPath(string agent, int port) =>
        Path.Combine(CliRunner.WorkDirectory, ".handoff", "keys", $"{agent}-{port.ToString(CultureInfo.InvariantCulture)}.token");

    /// <summary>A client of an agent's local API as the agent's own user calls it: its Origin and its launch's token on every request.</summary>
    public static HttpClient LocalApiClient(string agent, int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/") };
        http.DefaultRequestHeaders.Add("Origin", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        http.DefaultRequestHeaders.Add("X-Handoff-Token", File.ReadAllText(TokenPath(agent, port)).Trim());
        return http;
    }

    /// <summary>Declines whatever a failed earlier test left on the phone's sheet, so each test starts from an empty sheet.</summary>
    public async Task ClearSheetAsync()
    {
        using var http = LocalApiClient("payer", PayerHttpPort);
        var offers = await http.GetFromJsonAsync<JsonElement>("/api/offers");
        foreach (var offer in offers.EnumerateArray())
        {
            using var declined = await http.PostAsync($"/api/offers/{offer.GetProperty("paymentId").GetString()}/decline", content: null);
        }
    }

    public Task WaitForAsync(Func<Task<bool>> condition, string what) => BoundedWait.UntilAsync(
        condition,
        what,
        TimeSpan.FromSeconds(60),
        () => $"--- hub ---\n{Hub.Output}\n--- payer ---\n{Payer.Output}\n--- initiator ---\n{Initiator?.Output}");

    private async Task<IBrowser> StartBrowserAsync()
    {
        _playwright = await Playwright.CreateAsync();
        return await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class WebHouseholdCollection : ICollectionFixture<WebHousehold>
{
    public const string Name = "web household";
}
