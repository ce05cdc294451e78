using System.CommandLine;
using Handoff.Contracts;
using Handoff.Silo.Hosting;
using Handoff.Storage.Postgres;

namespace Handoff.Cli.Commands;

/// <summary>Options every command understands; each falls back to an environment variable, then a default.</summary>
internal static class CliOptions
{
    public static readonly Option<string> Household = new("--household")
    {
        Description = "Household id [env HANDOFF_HOUSEHOLD]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_HOUSEHOLD") ?? "home",
    };

    public static readonly Option<string> Gateway = new("--gateway")
    {
        Description = "Hub gateway host:port [env HANDOFF_GATEWAY]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_GATEWAY") ?? "127.0.0.1:30000",
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print results and errors as JSON",
        Recursive = true,
    };

    public static readonly Option<string> PayerUrl = new("--payer-url")
    {
        Description = "The payer agent's local API [env HANDOFF_PAYER_URL]",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_PAYER_URL") ?? "http://127.0.0.1:5181",
    };

    public static readonly Option<string> Storage = new("--storage")
    {
        Description = "Where the hub keeps state: sqlite (a file, the default), memory (lost on exit) or postgres [env HANDOFF_STORAGE]",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_STORAGE") ?? "sqlite",
    };

    public static readonly Option<string> DataDirectory = new("--data")
    {
        Description = "Data folder of the SQLite store [env HANDOFF_DATA]",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_DATA") ?? HubStorage.DefaultDataDirectory,
    };

    public static readonly Option<string?> Postgres = new("--postgres")
    {
        Description = "Cluster mode: the PostgreSQL connection string of the household's cluster [env HANDOFF_POSTGRES]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_POSTGRES"),
    };

    /// <summary>The storage the options name, or a validation error naming the bad value.</summary>
    public static HubStorage HubStorageFrom(ParseResult parsed) => parsed.GetValue(Storage) switch
    {
        "sqlite" => HubStorage.Sqlite(parsed.GetValue(DataDirectory)!),
        "memory" => HubStorage.Memory with { DataDirectory = parsed.GetValue(DataDirectory) },
        "postgres" => HubStorage.Postgres(
            parsed.GetValue(Postgres) ?? throw new ValidationException("postgres", "--storage postgres needs --postgres CONNECTION or HANDOFF_POSTGRES"),
            parsed.GetValue(DataDirectory)),
        var other => throw new ValidationException("storage", $"'{other}' is not one of sqlite, memory, postgres"),
    };

    /// <summary>With <c>--postgres</c>, clients find the gateways in the cluster's membership table; otherwise they use <c>--gateway</c>.</summary>
    public static Action<IClientBuilder>? ClusteringFrom(ParseResult parsed) =>
        parsed.GetValue(Postgres) is { Length: > 0 } database
            ? client => client.UseHandoffPostgresClustering(database)
            : null;

    public static readonly Option<string> Keys = new("--keys")
    {
        Description = "Folder of this machine's device keys (private, never sent) [env HANDOFF_KEYS]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_KEYS") ?? Sdk.DeviceKeyFile.DefaultFolder,
    };

    public static readonly Option<string?> Certificate = new("--certificate")
    {
        Description = "The household's certificate (household.pfx from the hub): turns on mutual TLS [env HANDOFF_CERTIFICATE]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_CERTIFICATE"),
    };

    /// <summary>The household certificate named by <c>--certificate</c>, or null for a household without TLS.</summary>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2? CertificateFrom(ParseResult parsed) =>
        parsed.GetValue(Certificate) is { Length: > 0 } path ? Contracts.Security.HouseholdCertificate.Load(path) : null;

    public static readonly Option<string[]> Pair = new("--pair")
    {
        Description = "Pairing code from the hub (handoff pair), for a device not yet paired; one per --device",
    };

    /// <summary>The hub's admin token: HANDOFF_ADMIN_TOKEN, or the token file in the hub's data folder.</summary>
    public static string AdminTokenFrom(ParseResult parsed) =>
        Environment.GetEnvironmentVariable("HANDOFF_ADMIN_TOKEN") is { Length: > 0 } token
            ? token
            : AdminTokenFile.Read(parsed.GetValue(DataDirectory)!);

    /// <summary>The admin token when this machine has it (the hub's), else null: reads then need a device key.</summary>
    public static string? AdminTokenOrNull(ParseResult parsed)
    {
        if (Environment.GetEnvironmentVariable("HANDOFF_ADMIN_TOKEN") is { Length: > 0 } token)
        {
            return token;
        }

        // The client commands (devices, status, pay…) do not take --data: their value is then null, and the hub's
        // folder is where --data would default to.
        var data = parsed.GetValue(DataDirectory) ?? Environment.GetEnvironmentVariable("HANDOFF_DATA") ?? HubStorage.DefaultDataDirectory;
        return File.Exists(AdminTokenFile.PathIn(data)) ? AdminTokenFile.Read(data) : null;
    }

    /// <summary>A signer holding the key of <paramref name="deviceId"/> from the keys folder.</summary>
    public static Contracts.Security.KeyRingSigner SignerFor(ParseResult parsed, string deviceId)
    {
        var signer = new Contracts.Security.KeyRingSigner();
        signer.Add(deviceId, Sdk.DeviceKeyFile.Load(parsed.GetValue(Keys)!, deviceId));
        return signer;
    }

    /// <summary>Set by <c>handoff up</c> on its children: they exit when it does.</summary>
    public static readonly Option<int?> ParentPid = new("--parent-pid") { Hidden = true };

    public static Option<int> Port(string name, int defaultPort, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultPort,
    };
}
