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
        Description = "The hub's data folder: SQLite store, admin token, certificate [env HANDOFF_DATA; default: the nearest .handoff/ here or above, else ./.handoff]",
        DefaultValueFactory = _ => Sdk.DataFolder.Resolve(),
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
        Description = "Folder of this machine's device keys (private, never sent) [env HANDOFF_KEYS; default: keys/ in the data folder]",
        Recursive = true,
        DefaultValueFactory = _ => Sdk.DataFolder.ResolveKeys(),
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
            : AdminTokenFile.Read(DataFolderOf(parsed));

    /// <summary>The admin token when this machine has it (the hub's), else null: reads then need a device key.</summary>
    public static string? AdminTokenOrNull(ParseResult parsed) =>
        Environment.GetEnvironmentVariable("HANDOFF_ADMIN_TOKEN") is { Length: > 0 } token ? token
        : File.Exists(AdminTokenFile.PathIn(DataFolderOf(parsed))) ? AdminTokenFile.Read(DataFolderOf(parsed))
        : null;

    /// <summary>The identity of reads that have neither the admin token nor a device key.</summary>
    public const string ReadOnlyDevice = "handoff-cli";

    /// <summary>
    /// Who the CLI's reads speak as: the household's administrator when this machine has the hub's admin token,
    /// else the first paired device whose key is in the keys folder. Neither: refused, naming both places.
    /// </summary>
    public static (string? AdminToken, string DeviceId) Reader(ParseResult parsed)
    {
        if (AdminTokenOrNull(parsed) is { } token)
        {
            return (token, Contracts.Households.AdminDevice);
        }

        var keys = parsed.GetValue(Keys)!;
        var device = Directory.Exists(keys)
            ? Directory.EnumerateFiles(keys, "*.key").Select(Path.GetFileNameWithoutExtension).Where(Contracts.DeviceIds.IsValid).Order(StringComparer.Ordinal).FirstOrDefault()
            : null;
        // Neither: the reads go as no device at all, and the household (once it is reached) refuses them; a hub
        // that is not running is reported first, since that is what the person has to fix.
        return (null, device ?? ReadOnlyDevice);
    }

    // --data where the command has it; the same default (HANDOFF_DATA, the nearest .handoff/) where it does not.
    private static string DataFolderOf(ParseResult parsed) =>
        parsed.GetResult(DataDirectory) is not null ? parsed.GetValue(DataDirectory)! : Sdk.DataFolder.Resolve();

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
