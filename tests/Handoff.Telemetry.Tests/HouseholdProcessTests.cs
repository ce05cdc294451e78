using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Handoff.Telemetry.Tests;

/// <summary>A real household as processes (hub, payer phone-1, initiator tv-1), with the hub's HTTP port known.</summary>
public sealed class ObservedHousehold : IAsyncLifetime
{
    public const string Pin = "4321";

    public string Household { get; } = "obs-" + Guid.NewGuid().ToString("n")[..8];

    public int GatewayPort { get; } = LoopbackPorts.Reserve();

    public int HubHttpPort { get; } = LoopbackPorts.Reserve();

    public int PayerHttpPort { get; } = LoopbackPorts.Reserve();

    public CliProcess Hub { get; private set; } = null!;

    public CliProcess Payer { get; private set; } = null!;

    public CliProcess Initiator { get; private set; } = null!;

    public string HubUrl => $"http://127.0.0.1:{HubHttpPort}";

    private string Folder { get; } = Directory.CreateTempSubdirectory("handoff-telemetry-").FullName;

    private string DataDirectory => Path.Combine(Folder, "hub");

    private string KeysDirectory => Path.Combine(Folder, "keys");

    /// <summary>A one-time pairing code, as the hub's owner gets one; the household pairs one device at a time.</summary>
    private async Task<string> PairingCodeAsync()
    {
        // The hub must answer, and the previous device must have used its code before the next one is issued.
        await BoundedWait.UntilAsync(
            async () => await RunAsync("devices", "--json") is { ExitCode: 0 } devices && devices.Json.GetArrayLength() == _paired,
            $"the hub to answer with {_paired} paired devices",
            TimeSpan.FromSeconds(60),
            () => $"--- hub ---\n{Hub.Output}");

        var pair = await RunAsync("pair", "--json", "--data", DataDirectory);
        Assert.True(pair.ExitCode == 0, pair.ToString());
        _paired++;
        return pair.Json.GetProperty("code").GetString()!;
    }

    private int _paired;

    public async Task InitializeAsync()
    {
        var hubSiloPort = LoopbackPorts.Reserve();
        Hub = await CliProcess.StartAsync(
            "hub", "hub", "--household", Household, "--storage", "memory", "--data", DataDirectory, "--silo-port", Port(hubSiloPort),
            "--gateway-port", Port(GatewayPort), "--http-port", Port(HubHttpPort));
        Payer = await CliProcess.StartAsync(
            "payer", "payer", "--household", Household, "--device", "phone-1", "--pin", Pin, "--pair", await PairingCodeAsync(), "--keys", KeysDirectory,
            "--hub-silo", $"127.0.0.1:{hubSiloPort}", "--silo-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(PayerHttpPort));
        Initiator = await CliProcess.StartAsync(
            "initiator", "initiator", "--household", Household, "--device", "tv-1", "--pair", await PairingCodeAsync(), "--keys", KeysDirectory,
            "--gateway", $"127.0.0.1:{GatewayPort}", "--http-port", Port(LoopbackPorts.Reserve()));
        await BoundedWait.UntilAsync(
            async () => await RunAsync("devices", "--json") is { ExitCode: 0 } devices
                && devices.Json.EnumerateArray().Count(device => device.GetProperty("online").GetBoolean()) == 2,
            "phone-1 and tv-1 to be online",
            TimeSpan.FromSeconds(60),
            () => $"--- hub ---\n{Hub.Output}\n--- payer ---\n{Payer.Output}");
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

    public Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(new Dictionary<string, string> { ["HANDOFF_DATA"] = DataDirectory }, [.. args, "--household", Household, "--gateway", $"127.0.0.1:{GatewayPort}", "--keys", KeysDirectory]);

    /// <summary>Pays 12.50 from tv-1 to phone-1 and approves on the phone's agent; returns the completed payment's id.</summary>
    public async Task<string> HandoffAsync()
    {
        var pay = await RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "12.50", "--currency", "CNY", "--merchant", "Tea House", "--json");
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var paymentId = pay.Json.GetProperty("paymentId").GetString()!;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{PayerHttpPort}") };
        await BoundedWait.UntilAsync(
            async () => (await http.GetFromJsonAsync<JsonElement>("/api/offers")).EnumerateArray().Any(offer => offer.GetProperty("paymentId").GetString() == paymentId),
            $"payment {paymentId} on phone-1's sheet",
            TimeSpan.FromSeconds(30),
            () => Payer.Output);

        var approve = await RunAsync("approve", paymentId, "--pin", Pin, "--payer-url", $"http://127.0.0.1:{PayerHttpPort}", "--json");
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Equal("Completed", approve.Json.GetProperty("state").GetString());
        return paymentId;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

public sealed class HouseholdProcessTests(ObservedHousehold household) : IClassFixture<ObservedHousehold>
{
    [Fact]
    public async Task Trace_prints_the_span_tree_of_a_completed_handoff_across_its_processes()
    {
        var paymentId = await household.HandoffAsync();

        var trace = await household.RunAsync("trace", paymentId, "--wait", "15");

        Assert.True(trace.ExitCode == 0, trace.ToString());
        var lines = trace.Stdout.Split('\n', StringSplitOptions.TrimEntries);
        Assert.StartsWith(paymentId + "  trace ", lines[0]);
        Assert.Contains(lines, line => line.Contains("IPaymentRequestGrain/CreateAsync", StringComparison.Ordinal) && line.EndsWith("cli tv-1", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("payment Created", StringComparison.Ordinal) && line.Contains("hub · device tv-1 · silo ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("payer offer shown", StringComparison.Ordinal) && line.Contains("payer phone-1 · silo ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("payer PIN verified", StringComparison.Ordinal) && line.Contains("payer phone-1", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("└─ payment Completed", StringComparison.Ordinal) && line.Contains("hub", StringComparison.Ordinal));

        // The hub serves the same trace as a waterfall page, and its spans as JSON.
        using var http = new HttpClient { BaseAddress = new Uri(household.HubUrl) };
        var page = await http.GetStringAsync($"/traces/{paymentId}");
        Assert.Contains("payer offer shown", page, StringComparison.Ordinal);
        Assert.Contains("class=\"bar", page, StringComparison.Ordinal);
        var json = await http.GetFromJsonAsync<JsonElement>($"/traces/{paymentId}?format=json");
        Assert.Single(json.GetProperty("spans").EnumerateArray().Select(span => span.GetProperty("traceId").GetString()).Distinct());
    }

    [Fact]
    public async Task Unknown_payment_has_no_trace()
    {
        var trace = await household.RunAsync("trace", "pay-00000000000000000000", "--wait", "0", "--json");

        Assert.Equal(1, trace.ExitCode);
        Assert.Equal("not_found", trace.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Prometheus_scrapes_the_hubs_handoff_counter()
    {
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{household.HubHttpPort}", "/metrics");
        await prometheus.WaitUntilAsync(
            async () => await prometheus.QueryAsync("up{job=\"handoff-hub\"}") == 1,
            "Prometheus to scrape the hub's /metrics",
            TimeSpan.FromSeconds(30));
        var before = await prometheus.QueryAsync("sum(handoff_payments_completed_total)") ?? 0;

        await household.HandoffAsync();

        await prometheus.WaitUntilAsync(
            async () => await prometheus.QueryAsync("sum(handoff_payments_completed_total)") >= before + 1,
            $"handoff_payments_completed_total to pass {before} (hub's /metrics: {await ScrapeAsync()})",
            TimeSpan.FromSeconds(30));
        Assert.NotNull(await prometheus.QueryAsync("sum(handoff_duration_seconds_count)"));
    }

    [Fact]
    public async Task Hub_serves_the_orleans_dashboard_and_health()
    {
        using var http = new HttpClient { BaseAddress = new Uri(household.HubUrl) };

        Assert.True((await http.GetAsync("/dashboard/")).IsSuccessStatusCode);
        Assert.True((await http.GetAsync("/health")).IsSuccessStatusCode);
        Assert.Contains("orleans", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    private async Task<string> ScrapeAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri(household.HubUrl) };
        var text = await http.GetStringAsync("/metrics");
        return string.Join(" | ", text.Split('\n').Where(line => line.StartsWith("handoff_", StringComparison.Ordinal)));
    }
}
