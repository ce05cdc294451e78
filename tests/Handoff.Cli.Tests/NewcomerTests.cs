using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Handoff.Silo.Storage;

namespace Handoff.Cli.Tests;

/// <summary>What a newcomer meets first, against a real household: each message is one line, with its code and field.</summary>
[Collection(HouseholdProcessesCollection.Name)]
public sealed partial class NewcomerTests(HouseholdProcesses household) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-newcomer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_second_hub_on_the_ports_of_a_running_one_is_refused_at_once_in_one_line()
    {
        var data = Path.Combine(_folder, "second-hub");
        string[] args =
        [
            "hub", "--household", household.Household, "--data", data,
            "--silo-port", Port(household.HubSiloPort), "--gateway-port", Port(household.GatewayPort), "--http-port", Port(LoopbackPorts.Reserve()),
        ];

        var text = await CliRunner.RunAsync(args);
        var json = await CliRunner.RunAsync([.. args, "--json"]);

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Equal(string.Empty, text.Stdout);
        Assert.Equal(
            $"error: a household is already running here: something listens on 127.0.0.1 (ports {household.HubSiloPort} silo, {household.GatewayPort} gateway); stop it first, or give other ports",
            text.Stderr.TrimEnd());
        Assert.Equal(1, json.ExitCode);
        Assert.Equal("conflict", json.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.False(Directory.Exists(data), "the refused hub made its data folder: it started before checking");
    }

    [Fact]
    public async Task An_initiator_the_household_does_not_know_exits_one_with_one_line_instead_of_saying_ready()
    {
        string[] args =
        [
            "initiator", "--household", household.Household, "--gateway", household.Gateway, "--device", "tv-stranger",
            "--keys", Path.Combine(_folder, "keys"), "--http-port", Port(LoopbackPorts.Reserve()),
        ];

        var text = await CliRunner.RunAsync(args);
        var json = await CliRunner.RunAsync([.. args, "--json"]);

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.DoesNotContain("ready", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(
            $"error: device 'tv-stranger' is not paired with household '{household.Household}': get a code on the hub (handoff pair) and start with --pair CODE",
            text.Stderr.TrimEnd());
        Assert.Equal(1, json.ExitCode);
        Assert.Equal("forbidden", json.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Pay_finds_the_initiator_key_in_the_data_folder_above_the_current_folder()
    {
        var root = Path.Combine(_folder, "checkout");
        var keys = Directory.CreateDirectory(Path.Combine(root, ".handoff", "keys")).FullName;
        var key = Path.Combine(keys, "tv-1.key");
        File.Copy(Path.Combine(household.KeysDirectory, "tv-1.key"), key);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var below = Directory.CreateDirectory(Path.Combine(root, "ops", "Handoff.Cli")).FullName;

        var pay = await RunInAsync(
            below,
            "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "2", "--currency", "EUR", "--merchant", "Kiosk",
            "--household", household.Household, "--gateway", household.Gateway, "--json");

        Assert.True(pay.ExitCode == 0, pay.ToString());
        Assert.Equal("Displayed", pay.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Ledger_check_reads_the_store_of_the_data_folder_above_the_current_folder()
    {
        var root = Path.Combine(_folder, "checkout");
        SqliteStore.Ensure(Path.Combine(root, ".handoff"));
        var below = Directory.CreateDirectory(Path.Combine(root, "ops")).FullName;

        var check = await RunInAsync(below, "ledger", "check");

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal("ledger check passed", check.Stdout.TrimEnd().Split('\n')[^1]);
    }

    [Fact]
    public async Task Ledger_check_without_a_store_names_the_folder_it_looked_in_without_a_stack_trace()
    {
        var missing = Path.Combine(_folder, "no-hub-here");

        var text = await RunInAsync(_folder, new Dictionary<string, string?> { ["HANDOFF_DATA"] = missing }, "ledger", "check");
        var json = await RunInAsync(_folder, new Dictionary<string, string?> { ["HANDOFF_DATA"] = missing }, "ledger", "check", "--json");

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Equal(
            $"error: no hub store in {missing} (no handoff.db): give the hub's data folder with --data or HANDOFF_DATA",
            text.Stderr.TrimEnd());
        Assert.Equal(1, json.ExitCode);
        Assert.Equal("not_found", json.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Pay_from_a_folder_without_the_key_names_the_folder_it_looked_in()
    {
        var keys = Path.Combine(_folder, "empty-keys");

        var text = await CliRunner.RunAsync(
            "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "1", "--currency", "EUR", "--merchant", "Kiosk",
            "--household", household.Household, "--gateway", household.Gateway, "--keys", keys);

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Equal(
            $"error: device 'tv-1' has no key in {keys} (no tv-1.key): pair it first (--pair CODE), or give the folder that has its key with --keys, HANDOFF_KEYS or HANDOFF_DATA",
            text.Stderr.TrimEnd());
    }

    [Fact]
    public async Task A_time_with_a_unit_is_read_as_such()
    {
        var pay = await household.RunAsync(
            "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "1", "--currency", "EUR", "--merchant", "Clock shop", "--expires-in", "1.5m", "--json");

        Assert.True(pay.ExitCode == 0, pay.ToString());
        var created = pay.Json.GetProperty("createdAt").GetDateTimeOffset();
        var deadline = pay.Json.GetProperty("deadline").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromSeconds(90), deadline - created);

        var trace = await household.RunAsync("trace", "pay-00000000000000000000", "--wait", "500ms", "--json");
        Assert.True(trace.ExitCode == 1, trace.ToString());
        Assert.Equal("not_found", trace.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("--duration", "15x", "load", "--duration", "15x")]
    [InlineData("--expires-in", "soon", "pay", "--from", "tv-1", "--to", "phone-1", "--amount", "1", "--currency", "EUR", "--merchant", "M", "--expires-in", "soon")]
    [InlineData("--wait", "later", "trace", "pay-00000000000000000000", "--wait", "later")]
    public async Task A_time_that_is_not_one_is_a_usage_error_naming_the_option(string option, string value, params string[] args)
    {
        var command = args[0];

        var text = await CliRunner.RunAsync(args);
        var json = await CliRunner.RunAsync([.. args, "--json"]);

        Assert.True(text.ExitCode == 2, text.ToString());
        Assert.Equal(
            $"error: {option}: '{value}' is not a time such as 500ms, 15s or 2m (a bare number is seconds) (see 'handoff {command} --help')",
            text.Stderr.TrimEnd());
        Assert.Equal(2, json.ExitCode);
        var error = json.Json.GetProperty("error");
        Assert.Equal("validation", error.GetProperty("code").GetString());
        Assert.Equal(option.TrimStart('-'), error.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("initiator", "tv, tablet, car")]
    [InlineData("payer", "phone, watch")]
    public async Task A_kind_that_is_not_one_lists_the_kinds_there_are(string command, string kinds)
    {
        var text = await CliRunner.RunAsync(command, "--device", "d-1", "--kind", "foo");
        var json = await CliRunner.RunAsync(command, "--device", "d-1", "--kind", "foo", "--json");

        Assert.True(text.ExitCode == 2, text.ToString());
        Assert.Equal($"error: --kind: 'foo' is not one of {kinds} (see 'handoff {command} --help')", text.Stderr.TrimEnd());
        Assert.Equal("kind", json.Json.GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("validation", json.Json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Pay_takes_the_merchant_beside_a_details_file_that_has_none()
    {
        var details = Path.Combine(_folder, "details.json");
        await File.WriteAllTextAsync(details, """{"id":"order-details-merchant","total":{"label":"Total","amount":{"currency":"CNY","value":"9.90"}}}""");

        var pay = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--details", details, "--merchant", "Noodle Bar", "--json");

        Assert.True(pay.ExitCode == 0, pay.ToString());
        Assert.Equal("Noodle Bar", pay.Json.GetProperty("merchant").GetString());
        Assert.Equal("9.90 CNY", pay.Json.GetProperty("amountText").GetString());
    }

    [Theory]
    [InlineData("""{"merchant":{"name":"Tea House"},"total":{"label":"Total","amount":{"currency":"CNY","value":"1"}}}""", "Noodle Bar", "validation", "merchant: is given twice: 'Tea House' in the details and 'Noodle Bar' beside them; give it once")]
    [InlineData("""{"total":{"label":"Total","amount":{"currency":"CNY","value":"1"}}}""", null, "missing_field", "merchant: is required: merchant {name} in the details, or the payee's name beside them")]
    public async Task Pay_with_details_needs_the_merchant_once(string json, string? merchant, string code, string message)
    {
        var details = Path.Combine(_folder, $"details-{Guid.NewGuid():n}.json");
        await File.WriteAllTextAsync(details, json);
        string[] args = ["pay", "--from", "tv-1", "--to", "phone-1", "--details", details, .. merchant is null ? Array.Empty<string>() : ["--merchant", merchant]];

        var text = await household.RunAsync(args);
        var asJson = await household.RunAsync([.. args, "--json"]);

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Equal($"error: {message}", text.Stderr.TrimEnd());
        var error = asJson.Json.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("merchant", error.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Pay_with_details_refuses_an_amount_beside_them()
    {
        var text = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--details", "d.json", "--amount", "1");

        Assert.True(text.ExitCode == 2, text.ToString());
        Assert.Equal(
            "error: give either --details FILE [--merchant NAME] or all of --amount, --currency and --merchant (see 'handoff pay --help')",
            text.Stderr.TrimEnd());
    }

    [Fact]
    public async Task Amounts_read_the_same_in_the_cli_on_the_phone_and_on_the_hub_page()
    {
        var pay = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "7", "--currency", "JPY", "--merchant", "Ramen Stand");
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var first = pay.Stdout.Split('\n')[0];
        var paymentId = first.Split(' ')[0];
        Assert.Equal($"{paymentId}  Displayed  7 JPY to Ramen Stand", first);
        Assert.Matches(DeadlineLine(), pay.Stdout.Split('\n')[1]);

        using var http = new HttpClient();
        JsonElement? offer = null;
        await household.WaitForAsync(
            async () =>
            {
                var offers = await http.GetFromJsonAsync<JsonElement>($"{household.PayerUrl}/api/offers");
                offer = offers.EnumerateArray().FirstOrDefault(o => o.GetProperty("paymentId").GetString() == paymentId);
                return offer?.ValueKind == JsonValueKind.Object;
            },
            $"payment {paymentId} on the phone");
        Assert.Equal("7 JPY", offer!.Value.GetProperty("amountText").GetString());

        var page = await http.GetStringAsync($"{HubPageUrl()}/?household={household.Household}");
        Assert.Contains($"<code>{paymentId}</code>", page, StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">7 JPY</td>", page, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/traces\">traces</a>", page, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/dashboard/\">Orleans dashboard</a>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hub_logs_a_creation_as_such_and_warns_nothing_about_reminders()
    {
        var pay = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "3", "--currency", "EUR", "--merchant", "Log shop", "--json");
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var paymentId = pay.Json.GetProperty("paymentId").GetString()!;

        await household.WaitForAsync(
            () => Task.FromResult(household.Hub.Output.Contains($"Payment {paymentId}: Created -> Offered", StringComparison.Ordinal)),
            $"the hub to log {paymentId}'s offer");

        Assert.Contains($"Payment {paymentId}: Created by tv-1 (requested)", household.Hub.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Created -> Created", household.Hub.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("MinimumReminderPeriod", household.Hub.Output + household.Payer.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("help")]
    [InlineData("help", "ledger", "check")]
    public async Task Help_is_a_command(params string[] args)
    {
        var help = await CliRunner.RunAsync(args);

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("Usage:", help.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, help.Stderr);
    }

    private string HubPageUrl() =>
        HubHttp().Match(household.Hub.Output) is { Success: true } ready
            ? ready.Groups[1].Value
            : throw new InvalidOperationException($"the hub did not say where its page is:\n{household.Hub.Output}");

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs <c>handoff</c> in <paramref name="folder"/>, with none of the folder variables of the test's own environment.</summary>
    internal static Task<CliResult> RunInAsync(string folder, params string[] args) => RunInAsync(folder, new Dictionary<string, string?>(), args);

    internal static Task<CliResult> RunInAsync(string folder, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        CliRunner.RunInAsync(folder, environment, args);

    [GeneratedRegex(@"^  tv-1 -> phone-1, order [0-9a-f]{32}, deadline \d\d:\d\d:\d\d$")]
    private static partial Regex DeadlineLine();

    [GeneratedRegex(@"hub ready: .*(http://127\.0\.0\.1:\d+)")]
    private static partial Regex HubHttp();
}

/// <summary>Messages that need no household, or a place where none runs.</summary>
public sealed class NoHouseholdTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-no-household-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Devices_with_the_hub_stopped_says_so_at_once_naming_the_address()
    {
        var gateway = $"127.0.0.1:{LoopbackPorts.Reserve()}";
        var timer = Stopwatch.StartNew();

        var text = await CliRunner.RunAsync("devices", "--gateway", gateway);
        var json = await CliRunner.RunAsync("devices", "--gateway", gateway, "--json");

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Equal(string.Empty, text.Stdout);
        Assert.Equal($"error: hub not running: nothing listens at {gateway}", text.Stderr.TrimEnd());
        Assert.Equal(1, json.ExitCode);
        Assert.Equal("unavailable", json.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(8), $"two refused runs took {timer.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task A_pin_file_that_is_not_there_is_named()
    {
        var missing = Path.Combine(_folder, "pin.txt");

        var text = await CliRunner.RunAsync("payer", "--device", "phone-9", "--pin-file", missing, "--keys", Path.Combine(_folder, "keys"));
        var json = await CliRunner.RunAsync("payer", "--device", "phone-9", "--pin-file", missing, "--keys", Path.Combine(_folder, "keys"), "--json");

        Assert.True(text.ExitCode == 1, text.ToString());
        Assert.Equal($"error: pin-file: no file {missing}", text.Stderr.TrimEnd());
        var error = json.Json.GetProperty("error");
        Assert.Equal("missing_field", error.GetProperty("code").GetString());
        Assert.Equal("pin-file", error.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Up_beside_a_running_household_is_refused_before_anything_starts()
    {
        // Holds the TV's page port, as a running demo does (unless something on this machine already holds it).
        using var tvPage = new TcpListener(IPAddress.Loopback, 5171);
        try
        {
            tvPage.Start();
        }
        catch (SocketException taken) when (taken.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Already held by another process: up must be refused just the same.
        }

        var data = Path.Combine(_folder, "data");
        var up = await NewcomerTests.RunInAsync(_folder, "up", "--data", data, "--household", "refused-up");

        Assert.True(up.ExitCode == 1, up.ToString());
        Assert.Equal(string.Empty, up.Stdout);
        var line = Assert.Single(up.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("error: a household is already running here: something listens on 127.0.0.1 (ports ", line, StringComparison.Ordinal);
        Assert.Contains("5171 tv-1 page", line, StringComparison.Ordinal);
        Assert.EndsWith("); stop it first (Ctrl+C where it runs)", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data), "up made its data folder before refusing");
    }
}
