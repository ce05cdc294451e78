using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.InitiatorAgent;
using Handoff.PayerAgent;
using Handoff.Silo.Hosting;
using Handoff.Storage.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Cli.Commands;

/// <summary><c>handoff hub|payer|initiator</c>: run one process of a household.</summary>
internal static class ServeCommands
{
    public const int HubSiloPort = 11111;
    public const int HubGatewayPort = 30000;
    public const int HubHttpPort = 5170;
    public const int PayerSiloPort = 11112;
    public const int PayerHttpPort = 5181;
    public const int InitiatorHttpPort = 5171;

    /// <summary>The ports of the demo's second payer device (<c>watch-1</c> in <c>handoff up</c>).</summary>
    public const int WatchSiloPort = 11113;
    public const int WatchHttpPort = 5182;

    private static readonly Option<string> Address = new("--address")
    {
        Description = "Address this process listens on and advertises",
        DefaultValueFactory = _ => "127.0.0.1",
    };

    public static IEnumerable<Command> Create() => [Hub(), Payer(), Initiator()];

    private static Command Hub()
    {
        var siloPort = CliOptions.Port("--silo-port", HubSiloPort, "Port other silos join on");
        var gatewayPort = CliOptions.Port("--gateway-port", HubGatewayPort, "Port clients connect to");
        var httpPort = CliOptions.Port("--http-port", HubHttpPort, "Port of the hub's health endpoint");
        var tls = new Option<string>("--tls")
        {
            Description = "Mutual TLS with the household certificate: auto (on unless the hub listens on loopback), on or off",
            DefaultValueFactory = _ => "auto",
        };
        var command = new Command("hub", "Run the household hub: durable state, the payments' authority.")
        {
            Address, siloPort, gatewayPort, httpPort, tls, CliOptions.Storage, CliOptions.DataDirectory, CliOptions.ParentPid,
        };
        command.SetAction((parsed, cancellation) => new Output(parsed.GetValue(CliOptions.Json)).RunAsync(async () =>
        {
            var household = DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household");
            var address = ParseAddress(parsed.GetValue(Address)!);
            RunningHousehold.RefuseIfRunning(
                address,
                "stop it first, or give other ports",
                ("silo", parsed.GetValue(siloPort)),
                ("gateway", parsed.GetValue(gatewayPort)),
                ("http", parsed.GetValue(httpPort)));
            var storage = CliOptions.HubStorageFrom(parsed);
            if (storage.Kind == HubStorageKind.Postgres)
            {
                // A hub creates or upgrades the schema it needs; concurrent hubs serialize on an advisory lock.
                await PostgresSchema.EnsureAsync(storage.ConnectionString!, cancellation);
            }

            var secured = parsed.GetValue(tls) switch
            {
                "on" => true,
                "off" => false,
                "auto" => !System.Net.IPAddress.IsLoopback(address),
                var other => throw new ValidationException("tls", $"'{other}' is not one of auto, on, off"),
            };
            var certificate = !secured ? null
                : CliOptions.CertificateFrom(parsed)
                    ?? HouseholdCertificate.LoadOrCreate(Path.Combine(parsed.GetValue(CliOptions.DataDirectory)!, HouseholdCertificate.FileName), household);
            var network = new HouseholdNetwork(
                address,
                parsed.GetValue(siloPort),
                parsed.GetValue(gatewayPort),
                HubSiloEndpoint: null,
                Households.ClusterIdOf(household),
                storage.Kind == HubStorageKind.Postgres ? storage.ConnectionString : null,
                certificate);
            var app = HubHost.Build(new HubSettings(network, parsed.GetValue(httpPort), storage));
            return await ServeAsync(
                app,
                parsed,
                $"hub ready: silo {address}:{network.SiloPort}, gateway {address}:{network.GatewayPort}, http://{address}:{parsed.GetValue(httpPort)}, storage {storage}, TLS {(certificate is null ? "off" : "on")}",
                parsed.GetValue(CliOptions.ParentPid),
                cancellation);
        }));
        return command;
    }

    private static Command Payer()
    {
        var devices = new Option<string[]>("--device")
        {
            Description = "Id of a payer device this agent carries (repeat for more)",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var name = new Option<string?>("--name") { Description = "Display name of the device [default: its id]" };
        var kind = CliValues.OneOf("--kind", "What the device is", DeviceKind.Phone, DeviceKind.Phone, DeviceKind.Watch);
        var pin = new Option<string?>("--pin")
        {
            Description = "Sets the PIN the person verifies with, 4-12 digits (kept on this device as a salted hash); prefer HANDOFF_PIN or --pin-file, which ps does not show [env HANDOFF_PIN]",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_PIN"),
        };
        var pinFile = new Option<FileInfo?>("--pin-file") { Description = "Reads the PIN to set from this file (its first line) instead of --pin" };
        var hubSilo = new Option<string>("--hub-silo")
        {
            Description = "The hub's silo endpoint host:port [env HANDOFF_HUB_SILO]",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_HUB_SILO") ?? $"127.0.0.1:{HubSiloPort}",
        };
        var siloPort = CliOptions.Port("--silo-port", PayerSiloPort, "Port of this device's silo");
        var httpPort = CliOptions.Port("--http-port", PayerHttpPort, "Port of the device's local API");
        var command = new Command("payer", "Run a payer agent: a phone's silo, its payment sheet and its local API.")
        {
            devices, name, kind, pin, pinFile, hubSilo, Address, siloPort, httpPort, CliOptions.Pair, CliOptions.ParentPid,
        };
        command.SetAction((parsed, cancellation) => new Output(parsed.GetValue(CliOptions.Json)).RunAsync(async () =>
        {
            var household = DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household");
            var ids = parsed.GetValue(devices)!.Select(id => DeviceIds.Require(id, "device")).Distinct().ToArray();
            var thePin = parsed.GetValue(pinFile) is { } file
                ? file.Exists
                    ? File.ReadLines(file.FullName).FirstOrDefault()?.Trim() ?? string.Empty
                    : throw new ValidationException("pin-file", $"no file {file.FullName}", ErrorCodes.MissingField)
                : parsed.GetValue(pin);
            if (thePin is not null && (thePin is not { Length: >= 4 and <= 12 } || !thePin.All(char.IsAsciiDigit)))
            {
                throw new ValidationException("pin", "must be 4 to 12 digits");
            }

            var codes = parsed.GetValue(CliOptions.Pair) ?? [];
            if (codes.Length > ids.Length)
            {
                throw new ValidationException("pair", $"{codes.Length} pairing codes for {ids.Length} devices");
            }

            var keys = parsed.GetValue(CliOptions.Keys)!;
            var carried = ids
                .Select(id => PayerDeviceFiles.LoadOrCreate(keys, id, ids.Length == 1 ? parsed.GetValue(name) ?? id : id, parsed.GetValue(kind), thePin))
                .ToArray();
            var pairing = ids.Zip(codes).ToDictionary(pair => pair.First, pair => pair.Second);
            var address = ParseAddress(parsed.GetValue(Address)!);
            var postgres = parsed.GetValue(CliOptions.Postgres);
            var network = new HouseholdNetwork(
                address,
                parsed.GetValue(siloPort),
                0,
                postgres is null ? Sdk.HandoffClientOptions.ParseEndpoint(parsed.GetValue(hubSilo)!) : null,
                Households.ClusterIdOf(household),
                postgres,
                CliOptions.CertificateFrom(parsed));
            var settings = new PayerAgentSettings(household, carried, network, parsed.GetValue(httpPort), pairing, keys);
            using var stop = StopToken(parsed.GetValue(CliOptions.ParentPid), cancellation);
            await PayerAgentRunner.RunAsync(
                settings,
                rejoined => Console.Out.WriteLine(
                    $"payer {(rejoined ? "rejoined" : "ready")}: {string.Join(", ", ids)} on silo {address}:{network.SiloPort}, API http://127.0.0.1:{settings.HttpPort}"),
                problem => Console.Error.WriteLine($"payer: {problem}"),
                stop.Token);
            return Output.Success;
        }));
        return command;
    }

    private static Command Initiator()
    {
        var device = new Option<string>("--device") { Description = "Id of this initiator device", Required = true };
        var name = new Option<string?>("--name") { Description = "Display name of the device [default: its id]" };
        var kind = CliValues.OneOf("--kind", "What the device is", DeviceKind.Tv, DeviceKind.Tv, DeviceKind.Tablet, DeviceKind.Car);
        var httpPort = CliOptions.Port("--http-port", InitiatorHttpPort, "Port of the device's local API");
        var command = new Command("initiator", "Run an initiator agent: a TV's SDK client and its local checkout API.")
        {
            device, name, kind, httpPort, CliOptions.Pair, CliOptions.ParentPid,
        };
        command.SetAction((parsed, cancellation) => new Output(parsed.GetValue(CliOptions.Json)).RunAsync(async () =>
        {
            var id = DeviceIds.Require(parsed.GetValue(device), "device");
            var settings = new InitiatorAgentSettings(
                DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household"),
                id,
                parsed.GetValue(name) ?? id,
                parsed.GetValue(kind),
                [parsed.GetValue(CliOptions.Gateway)!],
                parsed.GetValue(httpPort),
                CliOptions.ClusteringFrom(parsed),
                parsed.GetValue(CliOptions.Keys)!,
                parsed.GetValue(CliOptions.Pair)?.FirstOrDefault(),
                CliOptions.CertificateFrom(parsed));
            var app = InitiatorAgentHost.Build(settings);
            return await ServeAsync(
                app,
                parsed,
                $"initiator ready: {id} via gateway {settings.Gateways[0]}, API http://127.0.0.1:{settings.HttpPort}",
                parsed.GetValue(CliOptions.ParentPid),
                cancellation,
                app.Services.GetRequiredService<InitiatorStanding>());
        }));
        return command;
    }

    /// <summary>
    /// Starts the host, says it is ready, and runs until Ctrl+C, SIGTERM or the parent's exit. An initiator is
    /// ready only once the household has taken it (<paramref name="standing"/>); a refusal, then or later, ends
    /// it with the household's reason and exit code 1.
    /// </summary>
    private static async Task<int> ServeAsync(
        WebApplication app,
        ParseResult parsed,
        string ready,
        int? parentPid,
        CancellationToken cancellation,
        InitiatorStanding? standing = null)
    {
        var output = new Output(parsed.GetValue(CliOptions.Json));
        await using (app)
        {
            try
            {
                await app.StartAsync(cancellation);
            }
            catch (Exception exception) when (exception is IOException or Orleans.Runtime.OrleansException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                return output.Error("start_failed", $"could not start: {exception.GetBaseException().Message}");
            }

            using var stop = StopToken(parentPid, cancellation, app.Lifetime.ApplicationStopping);
            var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
            Task refused = standing?.Refused ?? new TaskCompletionSource().Task;
            if (standing is not null && await Task.WhenAny(standing.Registered, refused, stopped) != standing.Registered)
            {
                return await StopAsync(app, output, standing);
            }

            Console.Out.WriteLine(ready);
            await Task.WhenAny(stopped, refused);
            return await StopAsync(app, output, standing);
        }
    }

    private static async Task<int> StopAsync(WebApplication app, Output output, InitiatorStanding? standing)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await app.StopAsync(grace.Token);
        return standing?.Refused is { IsCompletedSuccessfully: true } refused
            ? output.Error(refused.Result.Code, refused.Result.Message)
            : Output.Success;
    }

    /// <summary>Fires on Ctrl+C, SIGTERM, the given tokens, or when the parent process (if any) is gone.</summary>
    private static CancellationTokenSource StopToken(int? parentPid, params CancellationToken[] tokens)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(tokens);
        if (parentPid is { } parent)
        {
            _ = WatchParentAsync(parent, stop);
        }

        return stop;
    }

    private static async Task WatchParentAsync(int parentPid, CancellationTokenSource stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
        {
            if (!IsAlive(parentPid))
            {
                await stop.CancelAsync();
                return;
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static IPAddress ParseAddress(string value) =>
        IPAddress.TryParse(value, out var address) ? address : throw new ValidationException("address", $"'{value}' is not an IP address");
}
