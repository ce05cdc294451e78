using System.CommandLine;
using System.Diagnostics;
using Handoff.Sdk;

namespace Handoff.Cli.Commands;

/// <summary><c>handoff up</c>: the household demo — a hub, a phone with a wallet and a card, a watch and a TV on loopback, until Ctrl+C.</summary>
internal static class UpCommand
{
    private const string Phone = "phone-1";
    private const string Watch = "watch-1";
    private const string Tv = "tv-1";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    public static Command Create()
    {
        var pin = new Option<string>("--pin")
        {
            Description = "The demo phone's and watch's PIN; they get it by environment, never on their command line [env HANDOFF_PIN]",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_PIN") is { Length: > 0 } fromEnvironment ? fromEnvironment : "1234",
        };
        var command = new Command("up", "Run the household demo: hub, payers phone-1 (with a wallet and a card) and watch-1, initiator tv-1 on this machine.") { pin, CliOptions.DataDirectory };
        command.SetAction((parsed, invocationCancellation) => new Output(json: false).RunAsync(async () =>
        {
            // Before anything starts: a second demo on the same ports would disturb the running one.
            RunningHousehold.RefuseIfRunning(
                System.Net.IPAddress.Loopback,
                "stop it first (Ctrl+C where it runs)",
                ("hub silo", ServeCommands.HubSiloPort),
                ("hub gateway", ServeCommands.HubGatewayPort),
                ("hub page", ServeCommands.HubHttpPort),
                ($"{Phone} silo", ServeCommands.PayerSiloPort),
                ($"{Phone} page", ServeCommands.PayerHttpPort),
                ($"{Watch} silo", ServeCommands.WatchSiloPort),
                ($"{Watch} page", ServeCommands.WatchHttpPort),
                ($"{Tv} page", ServeCommands.InitiatorHttpPort));
            using var shutdown = new ShutdownSignal(invocationCancellation);
            var cancellation = shutdown.Token;
            var household = parsed.GetValue(CliOptions.Household)!;
            var thePin = parsed.GetValue(pin)!;
            var parent = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

            // Absolute folders: the children then find the same files whatever folder they resolve from.
            var data = Path.GetFullPath(parsed.GetValue(CliOptions.DataDirectory)!);
            var keys = parsed.GetResult(CliOptions.Keys) is { Implicit: false }
                ? Path.GetFullPath(parsed.GetValue(CliOptions.Keys)!)
                : Path.Combine(data, DataFolder.KeysName);
            var common = new[] { "--household", household, "--parent-pid", parent, "--keys", keys };
            await using var children = new ChildProcesses();

            Console.Out.WriteLine($"Starting household '{household}'…");
            children.Start("hub", ["hub", "--data", data, .. common]);
            await WaitAsync(children, "the hub", () => IsHealthyAsync(ServeCommands.HubHttpPort), cancellation);
            var admin = CliOptions.AdminTokenFrom(parsed);
            var probeOptions = new HandoffClientOptions { HouseholdId = household, DeviceId = "handoff-up", KeysFolder = keys, AdminToken = admin };
            probeOptions.Gateways.Clear();
            probeOptions.Gateways.Add($"127.0.0.1:{ServeCommands.HubGatewayPort}");
            await using var probe = await HandoffClient.ConnectAsync(probeOptions, cancellation);

            // Each device joins with its own one-time code; a device already paired with its key ignores it.
            var phoneCode = await probe.CreatePairingCodeAsync(admin);
            // The PIN goes by environment, not on the command line, where every user of the machine sees it (ps).
            children.Start(Phone, ["payer", "--device", Phone, "--name", "Alice's phone", "--pair", phoneCode.Code, .. common], new() { ["HANDOFF_PIN"] = thePin });
            await WaitAsync(children, $"{Phone} to pair and come online", () => OnlineAsync(probe, Phone), cancellation);
            await SeedProgramsAsync(probe, admin);
            var watchCode = await probe.CreatePairingCodeAsync(admin);
            children.Start(
                Watch,
                ["payer", "--device", Watch, "--name", "Alice's watch", "--kind", "watch", "--pair", watchCode.Code,
                    "--silo-port", Port(ServeCommands.WatchSiloPort), "--http-port", Port(ServeCommands.WatchHttpPort), .. common],
                new() { ["HANDOFF_PIN"] = thePin });
            await WaitAsync(children, $"{Watch} to pair and come online", () => OnlineAsync(probe, Watch), cancellation);
            var tvCode = await probe.CreatePairingCodeAsync(admin);
            children.Start(Tv, ["initiator", "--device", Tv, "--name", "Living room TV", "--pair", tvCode.Code, .. common]);
            await WaitAsync(children, $"{Tv} to pair and come online", () => OnlineAsync(probe, Tv), cancellation);

            Console.Out.WriteLine(Banner(household, thePin));
            var ended = await children.WaitForAnyExitAsync(cancellation);
            if (ended is not null && !cancellation.IsCancellationRequested)
            {
                return new Output(json: false).Error("stopped", $"{ended} exited unexpectedly; stopping the household");
            }

            Console.Out.WriteLine("Stopping the household…");
            return Output.Success;
        }));
        return command;
    }

    private static async Task WaitAsync(ChildProcesses children, string what, Func<Task<bool>> ready, CancellationToken cancellation)
    {
        var deadline = Stopwatch.StartNew();
        while (!await ready())
        {
            if (children.Exited() is { } ended)
            {
                throw new Contracts.HandoffException("start_failed", $"{ended} exited while waiting for {what}");
            }

            if (deadline.Elapsed > StartTimeout)
            {
                throw new Contracts.HandoffException("start_failed", $"timed out after {StartTimeout.TotalSeconds:0}s waiting for {what}");
            }

            await Task.Delay(250, cancellation);
        }
    }

    private static async Task<bool> IsHealthyAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"));
            return response.IsSuccessStatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Gives the phone its demo programs: a wallet holding 1000.00 CNY and a card with a 200.00 CNY credit limit. Run
    /// again over the same data, it changes nothing: the same program is added once, the same top-up key books once.
    /// </summary>
    private static async Task SeedProgramsAsync(HandoffClient probe, string admin)
    {
        await probe.AddProgramAsync(admin, new Contracts.PaymentProgram("wallet", Phone, "Family wallet", Contracts.ProgramKind.Wallet, "CNY", 0m));
        await probe.TopUpProgramAsync(admin, "wallet", 1000.00m, "demo-seed");
        await probe.AddProgramAsync(admin, new Contracts.PaymentProgram("card", Phone, "Bank card", Contracts.ProgramKind.Card, "CNY", 200.00m));
    }

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<bool> OnlineAsync(HandoffClient probe, string deviceId) =>
        (await probe.ListDevicesAsync()).Any(device => device.DeviceId == deviceId && device.Online);

    private static string Banner(string household, string pin) => $"""

        Household '{household}' is up on this machine.
          hub        silo 127.0.0.1:{ServeCommands.HubSiloPort}, gateway 127.0.0.1:{ServeCommands.HubGatewayPort}
          payer      {Phone} (Alice's phone), PIN {pin}: programs wallet (Family wallet, 1000.00 CNY) and card (Bank card, 200.00 CNY credit)
          payer      {Watch} (Alice's watch), PIN {pin}: pays from its own account
          initiator  {Tv} (Living room TV)

        Open in a browser:
          the TV's shop         http://127.0.0.1:{ServeCommands.InitiatorHttpPort}/
          the phone's sheet     http://localhost:{ServeCommands.PayerHttpPort}/   (localhost, not the IP: the fingerprint needs it)
          the watch's sheet     http://localhost:{ServeCommands.WatchHttpPort}/
          the hub               http://127.0.0.1:{ServeCommands.HubHttpPort}/?household={household}
          a payment's trace     http://127.0.0.1:{ServeCommands.HubHttpPort}/traces   (or: ./handoff trace <paymentId>)

        In another terminal:
          ./handoff devices
          ./handoff programs
          ./handoff pay --from {Tv} --to {Phone},{Watch} --amount 12.50 --currency CNY --merchant "Tea House"
          ./handoff approve <paymentId> --pin {pin} --program wallet      (or: --program card; or: ./handoff decline <paymentId>)
          ./handoff approve <paymentId> --pin {pin} --payer-url http://127.0.0.1:{ServeCommands.WatchHttpPort}      (the watch pays instead)
          ./handoff status <paymentId>

        The payment sheets appear below, prefixed [{Phone}] and [{Watch}]. Ctrl+C stops everything.
        """;

    /// <summary>Child processes of <c>handoff up</c>, their output prefixed, all stopped together.</summary>
    private sealed class ChildProcesses : IAsyncDisposable
    {
        private readonly List<(string Name, Process Process)> _children = [];

        public void Start(string name, string[] args, Dictionary<string, string>? environment = null)
        {
            var start = SelfProcess.StartInfo(args);
            foreach (var (key, value) in environment ?? [])
            {
                start.Environment[key] = value;
            }

            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, line) => Echo(name, line.Data);
            process.ErrorDataReceived += (_, line) => Echo(name, line.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _children.Add((name, process));
        }

        public string? Exited() => _children.FirstOrDefault(child => child.Process.HasExited).Name;

        /// <summary>The name of the first child to exit, or null when <paramref name="cancellation"/> fired first.</summary>
        public async Task<string?> WaitForAnyExitAsync(CancellationToken cancellation)
        {
            var exits = _children.Select(child => child.Process.WaitForExitAsync(CancellationToken.None)).ToList();
            var stopped = Task.Delay(Timeout.Infinite, cancellation);
            var first = await Task.WhenAny([.. exits, stopped]);
            return first == stopped ? null : _children[exits.IndexOf(first)].Name;
        }

        public async ValueTask DisposeAsync()
        {
            // Devices leave before the hub, each with SIGTERM and 10 s to stop cleanly before SIGKILL.
            foreach (var (_, process) in Enumerable.Reverse(_children))
            {
                if (!process.HasExited)
                {
                    _ = SelfProcess.Signal(process.Id, SelfProcess.SigTerm);
                    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    try
                    {
                        await process.WaitForExitAsync(grace.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }

                process.Dispose();
            }
        }

        private static void Echo(string name, string? line)
        {
            if (line is not null)
            {
                Console.Out.WriteLine($"[{name}] {line}");
            }
        }
    }
}
