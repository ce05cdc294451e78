using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;
using Xunit;

namespace Handoff.Testing;

/// <summary>
/// A throwaway PostgreSQL server on a reserved loopback port, started from the installed server binaries: the tests'
/// server and the benchmark's. It is durable as a household's is (<c>fsync=on</c>, <c>synchronous_commit=on</c>).
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so when the tests run as root the server runs as the
/// <c>postgres</c> OS user (through runuser), which must exist. HANDOFF_PG_BIN overrides where
/// the binaries are looked for.
/// </remarks>
public sealed partial class PostgresServer : IAsyncLifetime, IAsyncDisposable
{
    private const string Superuser = "postgres";
    private const string ServiceUser = "postgres";
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(60);

    private string? _root;
    private string? _binDir;
    private bool _started;

    /// <summary>What every server runs with: durable commits, and room for a cluster's connection pools.</summary>
    public static IReadOnlyList<string> DurableSettings { get; } = ["fsync=on", "synchronous_commit=on", "max_connections=200"];

    /// <summary>The server's settings (each <c>name=value</c>); a later one wins over an earlier one of the same name.</summary>
    public IReadOnlyList<string> Settings { get; init; } = DurableSettings;

    /// <summary>The folder of the server's binaries (initdb, pg_ctl, and the clients such as pgbench).</summary>
    public string Bin => _binDir ?? throw new InvalidOperationException("the PostgreSQL server has not been started");

    /// <summary>The loopback TCP port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The directory holding the server's unix socket.</summary>
    public string SocketDirectory => Path.Combine(Root, "socket");

    /// <summary>A connection string to the maintenance database <c>postgres</c>.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    private string Root => _root ?? throw new InvalidOperationException("the PostgreSQL server has not been started");

    private string DataDirectory => Path.Combine(Root, "data");

    public async Task InitializeAsync()
    {
        _binDir = FindBinDirectory();
        _root = Directory.CreateTempSubdirectory("handoff-pg-").FullName;
        Directory.CreateDirectory(SocketDirectory);
        if (Environment.IsPrivilegedProcess)
        {
            // The server's own user must own its directories; the data directory it creates itself.
            await RunAsync("chown", ["-R", ServiceUser + ":", Root], asServiceUser: false);
        }

        await RunAsync(Path.Combine(_binDir, "initdb"),
            ["-D", DataDirectory, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            asServiceUser: true);

        // Another process can take the port between our probe and the server's bind; one more
        // try on a new port covers that without hiding a server that cannot start at all.
        for (var attempt = 1; ; attempt++)
        {
            Port = LoopbackPorts.Reserve();
            try
            {
                await StartAsync();
                break;
            }
            catch (InvalidOperationException) when (attempt < 2)
            {
            }
        }

        _started = true;
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
    }

    /// <summary>A connection string to <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = IPAddress.Loopback.ToString(),
        Port = Port,
        Username = Superuser,
        Database = database,
        Timeout = 15,
    }.ConnectionString;

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"database name '{name}' must be lower-case letters, digits and underscores", nameof(name));
        }

        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Creates a database with a unique name made from <paramref name="prefix"/>.</summary>
    public Task<string> CreateUniqueDatabaseAsync(string prefix) =>
        CreateDatabaseAsync($"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)]);

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    public async Task DisposeAsync()
    {
        if (_root is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            if (_started || File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await RunAsync(Path.Combine(_binDir!, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30"], asServiceUser: true);
            }
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
            _root = null;
        }
    }

    private async Task StartAsync()
    {
        if (Settings.Any(setting => setting.Replace(" ", string.Empty, StringComparison.Ordinal) is "fsync=off" or "synchronous_commit=off"))
        {
            throw new InvalidOperationException("a test or benchmark server keeps fsync and synchronous_commit on: durability is never traded for speed");
        }

        string[] options =
        [
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-h", IPAddress.Loopback.ToString(),
            "-k", SocketDirectory,
            .. Settings.SelectMany(setting => new[] { "-c", setting }),
        ];
        var log = Path.Combine(Root, "server.log");
        try
        {
            await RunAsync(Path.Combine(_binDir!, "pg_ctl"),
                ["start", "-D", DataDirectory, "-w", "-t", "30", "-l", log, "-o", string.Join(' ', options)],
                asServiceUser: true);
        }
        catch (InvalidOperationException ex) when (File.Exists(log))
        {
            throw new InvalidOperationException($"{ex.Message}\nserver log:\n{await File.ReadAllTextAsync(log)}", ex);
        }
    }

    private static string FindBinDirectory()
    {
        var overridden = Environment.GetEnvironmentVariable("HANDOFF_PG_BIN");
        if (!string.IsNullOrEmpty(overridden))
        {
            return HasServer(overridden)
                ? overridden
                : throw new InvalidOperationException($"HANDOFF_PG_BIN={overridden} has no initdb, pg_ctl and postgres binaries");
        }

        const string Preferred = "/usr/lib/postgresql/15/bin";
        if (HasServer(Preferred))
        {
            return Preferred;
        }

        // Any other installed major version at or above the schema's minimum, newest first.
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => (Dir: Path.Combine(dir, "bin"), Major: int.TryParse(Path.GetFileName(dir), out var major) ? major : 0))
                .Where(c => c.Major >= 15 && HasServer(c.Dir))
                .OrderByDescending(c => c.Major)
                .Select(c => c.Dir)
                .ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"PostgreSQL server binaries not found: {Preferred}/initdb is missing and no /usr/lib/postgresql/<15 or later>/bin has initdb, pg_ctl and postgres; install postgresql-15 (Debian: apt-get install postgresql-15) or set HANDOFF_PG_BIN");
    }

    private static bool HasServer(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres"));

    /// <summary>Runs one of the server's client programs (such as pgbench) against this server; returns its output.</summary>
    public Task<string> ClientAsync(string program, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(Path.Combine(Bin, program), [.. arguments, "-h", IPAddress.Loopback.ToString(), "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", Superuser], asServiceUser: false, timeout, environment);

    private static Task<string> RunAsync(string program, IReadOnlyList<string> arguments, bool asServiceUser) =>
        RunAsync(program, arguments, asServiceUser, s_commandTimeout);

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, bool asServiceUser, TimeSpan bound, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (asServiceUser && Environment.IsPrivilegedProcess && !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
        {
            throw new InvalidOperationException("the tests run as root, and PostgreSQL will not: runuser (util-linux) is needed to run it as the postgres user");
        }

        var start = asServiceUser && Environment.IsPrivilegedProcess
            ? BoundedProcess.StartOf("runuser", ["-u", ServiceUser, "--", program, .. arguments])
            : BoundedProcess.StartOf(program, arguments);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var what = $"{Path.GetFileName(program)} {string.Join(' ', arguments)}";
        CliResult result;
        try
        {
            result = await BoundedProcess.RunAsync(start, bound, what);
        }
        catch (TimeoutException timedOut)
        {
            throw new InvalidOperationException(timedOut.Message, timedOut);
        }

        var output = result.Stdout + result.Stderr;
        return result.ExitCode == 0 ? output : throw new InvalidOperationException($"{what} exited with {result.ExitCode}: {output}");
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
