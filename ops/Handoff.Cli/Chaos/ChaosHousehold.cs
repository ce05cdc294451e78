using System.Globalization;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Processes;
using Handoff.Sdk;
using Handoff.Silo.Hosting;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Handoff.Cli.Chaos;

/// <summary>
/// The household a chaos run starts as real processes on loopback: its hubs on a fresh SQLite file or a fresh
/// PostgreSQL database, one payer agent per payer device, the TV's initiator agent; and this process's own SDK
/// connection, which watches every payment as the TV's app does and cancels as a payer device does.
/// </summary>
internal sealed class ChaosHousehold : IAsyncDisposable
{
    public const string HouseholdId = "chaos";
    public const string Pin = "2580";
    public const string WrongPin = "0000";

    /// <summary>What a payer device with programs holds: a wallet topped up with this much, and a card with this limit.</summary>
    public const decimal WalletTopUp = 300m;

    public const decimal CardLimit = 150m;

    private static readonly TimeSpan OnlineWithin = TimeSpan.FromSeconds(90);
    private readonly Dictionary<string, ChaosProcess> _processes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _httpPorts = new(StringComparer.Ordinal);
    private readonly List<string> _gateways = [];
    private readonly List<int> _hubSiloPorts = [];
    private readonly TimeProvider _time;
    private HandoffClient? _connection;
    private StreamWriter? _driverLog;
    private bool _disposed;
    private KeyRingSigner? _keys;

    private ChaosHousehold(ChaosTopology topology, string folder, string? database, TimeProvider time)
    {
        Topology = topology;
        Folder = folder;
        Database = database;
        _time = time;
    }

    public ChaosTopology Topology { get; }

    /// <summary>The run's folder: the hubs' data (store, admin token), the devices' keys and every process's log.</summary>
    public string Folder { get; }

    public string DataDirectory => Path.Combine(Folder, "hub");

    public string KeysDirectory => Path.Combine(Folder, "keys");

    public string LogsDirectory => Path.Combine(Folder, "logs");

    /// <summary>The run's own PostgreSQL database (cluster mode), or null for SQLite.</summary>
    public string? Database { get; }

    public IReadOnlyCollection<ChaosProcess> Processes => _processes.Values;

    public ChaosProcess Process(string name) => _processes[name];

    /// <summary>The TV's SDK: requests go through the TV's agent, but the watchers run here, in the TV's name.</summary>
    public HandoffClient Tv => Connection.As(ChaosTopology.Initiator, Keys);

    /// <summary>The SDK as payer device <paramref name="deviceId"/>, holding its key (a cancellation from the phone).</summary>
    public HandoffClient AsPayer(string deviceId) => Connection.As(deviceId, Keys);

    public Uri AgentUrl(string process) => new($"http://127.0.0.1:{_httpPorts[process].ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>The payment programs each payer device holds (by device; none: it pays from its own account).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Programs { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

    /// <summary>Writes a line to <c>logs/driver.log</c>: what the run's people and app did, and what they heard back.</summary>
    public void Log(string line)
    {
        lock (_processes)
        {
            _driverLog?.WriteLine($"{_time.GetUtcNow():HH:mm:ss.fff} {line}");
        }
    }

    private HandoffClient Connection => _connection ?? throw new InvalidOperationException("the household is not started");

    private KeyRingSigner Keys => _keys ?? throw new InvalidOperationException("the devices are not paired yet");

    /// <summary>Starts every process, pairs the devices, gives the odd-numbered payers a wallet and a card.</summary>
    public static async Task<ChaosHousehold> StartAsync(ChaosTopology topology, string folder, string? postgres, TimeProvider time, Action<string> progress, CancellationToken cancellation)
    {
        var database = postgres is null ? null : await CreateDatabaseAsync(postgres, cancellation);
        var household = new ChaosHousehold(topology, folder, database, time);
        try
        {
            await household.StartAsync(progress, cancellation);
            return household;
        }
        catch
        {
            await household.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(Action<string> progress, CancellationToken cancellation)
    {
        Directory.CreateDirectory(LogsDirectory);
        _driverLog = new StreamWriter(Path.Combine(LogsDirectory, "driver.log"), append: true) { AutoFlush = true };
        var parent = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string[] common = ["--household", HouseholdId, "--keys", KeysDirectory, "--parent-pid", parent];
        string[] cluster = Database is null ? [] : ["--postgres", Database];
        var environment = new Dictionary<string, string>
        {
            // Recovery ticks every 2 s instead of 30 s: a run sees it act, and its grace after the deadlines stays short.
            ["Handoff__RecoveryInterval"] = "00:00:02",
        };
        foreach (var hub in Topology.HubNames)
        {
            var (silo, gateway, http) = (LoopbackPorts.Reserve(), LoopbackPorts.Reserve(), LoopbackPorts.Reserve());
            _gateways.Add($"127.0.0.1:{gateway.ToString(CultureInfo.InvariantCulture)}");
            _hubSiloPorts.Add(silo);
            _httpPorts[hub] = http;
            string[] storage = Database is null ? [] : ["--storage", "postgres"];
            Add(hub, ["hub", "--data", DataDirectory, "--silo-port", Port(silo), "--gateway-port", Port(gateway), "--http-port", Port(http), .. storage, .. common, .. cluster], environment);
        }

        // The first hub alone: it makes the admin token, the schema and the store the others then share.
        progress($"starting {Topology.HubNames[0]}…");
        await Process(Topology.HubNames[0]).StartAsync([], cancellation);
        await Task.WhenAll(Topology.HubNames.Skip(1).Select(hub => Process(hub).StartAsync([], cancellation)));
        var admin = AdminTokenFile.Read(DataDirectory);
        var options = new HandoffClientOptions
        {
            HouseholdId = HouseholdId,
            DeviceId = "chaos",
            KeysFolder = KeysDirectory,
            ConfigureClient = client => client.Services.AddLogging(logging => logging.AddProvider(new ChaosClientLog(this))),
        };
        options.Gateways.Clear();
        foreach (var gateway in _gateways)
        {
            options.Gateways.Add(gateway);
        }

        if (Database is { } connectionString)
        {
            options.Clustering = client => client.UseHandoffPostgresClustering(connectionString);
        }

        _connection = await HandoffClient.ConnectAsync(options, cancellation);
        var owner = _connection.AsAdmin(admin);

        var hubSilo = Database is null ? ["--hub-silo", $"127.0.0.1:{Port(_hubSiloPorts[0])}"] : Array.Empty<string>();
        var pinFile = Path.Combine(Folder, "pin");
        await File.WriteAllTextAsync(pinFile, Pin, cancellation);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // One device at a time: a new pairing code replaces the one before it.
        foreach (var device in Topology.PayerDevices)
        {
            var http = LoopbackPorts.Reserve();
            _httpPorts[device] = http;
            Add(device, ["payer", "--device", device, "--silo-port", Port(LoopbackPorts.Reserve()), "--http-port", Port(http), .. hubSilo, .. common, .. cluster], environment);
            progress($"starting {device}…");
            await Process(device).StartAsync(["--pair", (await owner.CreatePairingCodeAsync(admin)).Code, "--pin-file", pinFile], cancellation);
            await WaitOnlineAsync(owner, device, cancellation);
        }

        var tvHttp = LoopbackPorts.Reserve();
        _httpPorts[ChaosTopology.Initiator] = tvHttp;
        string[] gatewayOption = Database is null ? ["--gateway", _gateways[0]] : [];
        Add(ChaosTopology.Initiator, ["initiator", "--device", ChaosTopology.Initiator, "--http-port", Port(tvHttp), .. gatewayOption, .. common, .. cluster], environment);
        progress($"starting {ChaosTopology.Initiator}…");
        await Process(ChaosTopology.Initiator).StartAsync(["--pair", (await owner.CreatePairingCodeAsync(admin)).Code], cancellation);
        await WaitOnlineAsync(owner, ChaosTopology.Initiator, cancellation);

        _keys = new KeyRingSigner();
        foreach (var device in Topology.PayerDevices.Append(ChaosTopology.Initiator))
        {
            _keys.Add(device, DeviceKeyFile.Load(KeysDirectory, device));
        }

        var programs = (Dictionary<string, IReadOnlyList<string>>)Programs;
        foreach (var (device, index) in Topology.PayerDevices.Select((device, index) => (device, index)))
        {
            if (index % 2 == 1)
            {
                programs[device] = [];
                continue;
            }

            var number = device["phone-".Length..];
            var wallet = $"wallet-{number}";
            var card = $"card-{number}";
            await owner.AddProgramAsync(admin, new PaymentProgram(wallet, device, $"Wallet {number}", ProgramKind.Wallet, "CNY", 0m));
            await owner.TopUpProgramAsync(admin, wallet, WalletTopUp, $"chaos-{wallet}");
            await owner.AddProgramAsync(admin, new PaymentProgram(card, device, $"Card {number}", ProgramKind.Card, "CNY", CardLimit));
            programs[device] = [wallet, card];
        }
    }

    private void Add(string name, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        _processes[name] = new ChaosProcess(name, args, environment, Path.Combine(LogsDirectory, $"{name}.log"), _time);
    }

    private static async Task WaitOnlineAsync(HandoffClient owner, string device, CancellationToken cancellation)
    {
        try
        {
            await BoundedWait.UntilAsync(
                async () =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    try
                    {
                        return (await owner.ListDevicesAsync()).Any(status => status.DeviceId == device && status.Online);
                    }
                    catch (Exception problem) when (problem is not OperationCanceledException)
                    {
                        return false;
                    }
                },
                $"{device} to pair and come online",
                OnlineWithin);
        }
        catch (TimeoutException late)
        {
            throw new ChaosException(late.Message);
        }
    }

    /// <summary>Creates the run's own database on the server <paramref name="postgres"/> names, so that its checks see this run alone.</summary>
    private static async Task<string> CreateDatabaseAsync(string postgres, CancellationToken cancellation)
    {
        var name = $"handoff_chaos_{Guid.NewGuid():N}"[..28];
        try
        {
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync(cancellation);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync(cancellation);
        }
        catch (Exception problem) when (problem is NpgsqlException or ArgumentException)
        {
            throw new ChaosException($"cannot create the run's database on the --postgres server (the role needs CREATEDB): {problem.Message}");
        }

        return new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
    }

    /// <summary>Drops the run's database (a run that passed has nothing left to show).</summary>
    public async Task DropDatabaseAsync(string postgres)
    {
        if (Database is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {new NpgsqlConnectionStringBuilder(Database).Database} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        // The TV and the phones first, the hubs last, each thawed and killed: nothing outlives the run or stays stopped.
        foreach (var process in _processes.Values.Reverse())
        {
            await process.DisposeAsync();
        }

        lock (_processes)
        {
            _driverLog?.Dispose();
            _driverLog = null;
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
