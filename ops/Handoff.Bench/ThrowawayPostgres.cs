using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Handoff.Bench;

/// <summary>
/// A throwaway PostgreSQL server on a free loopback port, from the installed server binaries; as root it runs
/// as the <c>postgres</c> OS user (PostgreSQL refuses root). HANDOFF_PG_BIN overrides the binaries' folder.
/// </summary>
internal sealed class ThrowawayPostgres : IAsyncDisposable
{
    private const string ServiceUser = "postgres";
    private readonly string _root;

    private ThrowawayPostgres(string bin, string root, int port)
    {
        Bin = bin;
        _root = root;
        Port = port;
    }

    public string Bin { get; }

    public int Port { get; }

    /// <summary>The server settings both the handoff phase and pgbench run with.</summary>
    public static IReadOnlyList<string> Settings { get; } =
    [
        "max_connections=300",
        "shared_buffers=256MB",
        // Commits return before their WAL is flushed (the database stays consistent; a crash loses the last moments).
        "synchronous_commit=off",
    ];

    private string Data => Path.Combine(_root, "data");

    public static async Task<ThrowawayPostgres> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("HANDOFF_PG_BIN") ?? "/usr/lib/postgresql/15/bin";
        if (!File.Exists(Path.Combine(bin, "initdb")))
        {
            throw new InvalidOperationException($"PostgreSQL server binaries not found in {bin} (install postgresql-15 or set HANDOFF_PG_BIN)");
        }

        var root = Directory.CreateTempSubdirectory("handoff-bench-pg-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "socket"));
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["-R", ServiceUser + ":", root], asServiceUser: false);
        }

        var server = new ThrowawayPostgres(bin, root, FreePort());
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", server.Data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"], asServiceUser: true);
        var options = string.Join(' ', new[] { "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-h", "127.0.0.1", "-k", Path.Combine(root, "socket") }
            .Concat(Settings.SelectMany(setting => new[] { "-c", setting })));
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["start", "-D", server.Data, "-w", "-t", "30", "-l", Path.Combine(root, "server.log"), "-o", options], asServiceUser: true);
        return server;
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = IPAddress.Loopback.ToString(),
        Port = Port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Runs one of the server's client programs (pgbench) against this server and returns its output.</summary>
    public Task<string> ClientAsync(string program, IReadOnlyList<string> arguments) =>
        RunAsync(Path.Combine(Bin, program), [.. arguments, "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres"], asServiceUser: false);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(Bin, "pg_ctl"), ["stop", "-D", Data, "-m", "immediate", "-w", "-t", "30"], asServiceUser: true);
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, bool asServiceUser)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asServiceUser && Environment.IsPrivilegedProcess)
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", ServiceUser, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output + await error;
        return process.ExitCode == 0
            ? text
            : throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited {process.ExitCode}: {text}");
    }
}
