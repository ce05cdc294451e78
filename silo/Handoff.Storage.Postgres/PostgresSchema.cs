using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Handoff.Storage.Postgres;

/// <summary>Creates or upgrades the cluster-mode schema of a PostgreSQL database from the embedded migrations.</summary>
public static class PostgresSchema
{
    /// <summary>The oldest server the migrations run on (UNIQUE NULLS NOT DISTINCT needs 15).</summary>
    public const int MinimumServerVersion = 150000;

    // Every process that migrates the same database takes this session-level advisory lock first,
    // so concurrent starts apply each migration once; the key is "Handoff" in ASCII.
    private const long MigrationLockKey = 0x48616E646F6666;

    private const string VersionTableDdl = """
        CREATE TABLE IF NOT EXISTS handoff_schema_version
        (
            version    integer     NOT NULL,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT handoff_schema_version_pkey PRIMARY KEY (version)
        );
        """;

    /// <summary>The migrations this build carries, in the order they apply.</summary>
    public static IReadOnlyList<SchemaMigration> Migrations { get; } = SchemaMigration.LoadEmbedded(typeof(PostgresSchema).Assembly);

    /// <summary>The version a database has once every migration of this build is applied.</summary>
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>
    /// Applies the migrations the database does not have yet, each in its own transaction, and
    /// returns the schema version it ends at. Safe to run again and from several processes at once.
    /// </summary>
    public static async Task<int> EnsureAsync(string connectionString, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            throw new PostgresSchemaException($"cannot connect to PostgreSQL at {Describe(connection)} to migrate the schema: {ex.Message}", ex);
        }

        if (connection.PostgreSqlVersion < ServerVersion(MinimumServerVersion))
        {
            throw new PostgresSchemaException(
                $"PostgreSQL {connection.PostgreSqlVersion} at {Describe(connection)} is too old for the Handoff schema: it needs {ServerVersion(MinimumServerVersion)} or later");
        }

        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@key)", ct, ("key", MigrationLockKey), "taking the schema migration lock");
        try
        {
            await ExecuteAsync(connection, null, VersionTableDdl, ct, null, "creating handoff_schema_version");
            var applied = await ReadAppliedAsync(connection, ct);
            foreach (var migration in Migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                    {
                        throw new PostgresSchemaException(
                            $"migration {migration.Name} was applied to {Describe(connection)} with different contents (checksum {checksum}, this build has {migration.Checksum}); an applied migration must never be edited, add a new one instead");
                    }

                    continue;
                }

                await ApplyAsync(connection, migration, ct);
                applied[migration.Version] = migration.Checksum;
            }

            return applied.Keys.Max();
        }
        finally
        {
            // A broken connection drops the lock with the session; unlocking is then moot.
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", MigrationLockKey), "releasing the schema migration lock");
            }
        }
    }

    private static async Task ApplyAsync(NpgsqlConnection connection, SchemaMigration migration, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await ExecuteAsync(connection, transaction, migration.Sql, ct, null, $"applying migration {migration.Name}");
        await using (var record = new NpgsqlCommand(
            "INSERT INTO handoff_schema_version (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
        {
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            record.Parameters.AddWithValue("checksum", migration.Checksum);
            await record.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM handoff_schema_version", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        string sql,
        CancellationToken ct,
        (string Name, object Value)? parameter,
        string what)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        if (parameter is { } p)
        {
            command.Parameters.AddWithValue(p.Name, p.Value);
        }

        try
        {
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            throw new PostgresSchemaException($"{what} on {Describe(connection)} failed: {ex.Message}", ex);
        }
    }

    private static Version ServerVersion(int versionNumber) => new(versionNumber / 10000, versionNumber % 10000 / 100);

    // From the connection string rather than the connection, which knows nothing until it opens;
    // never the password.
    private static string Describe(NpgsqlConnection connection)
    {
        var settings = new NpgsqlConnectionStringBuilder(connection.ConnectionString);
        return $"{settings.Host}:{settings.Port.ToString(CultureInfo.InvariantCulture)}/{settings.Database}";
    }
}

/// <summary>One numbered SQL migration, named NNNN_description.sql.</summary>
public sealed record SchemaMigration(int Version, string Name, string Sql, string Checksum)
{
    private const string ResourcePrefix = "Handoff.Storage.Postgres.Migrations.";

    internal static IReadOnlyList<SchemaMigration> LoadEmbedded(Assembly assembly)
    {
        var migrations = new List<SchemaMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[ResourcePrefix.Length..];
            var separator = name.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0 || !int.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version <= 0)
            {
                throw new InvalidOperationException($"embedded migration '{name}' is not named NNNN_description.sql");
            }

            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"embedded migration '{name}' cannot be read");
            using var reader = new StreamReader(stream, Encoding.UTF8);

            // Line endings depend on the checkout, not on the migration, so they do not count.
            var sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            migrations.Add(new SchemaMigration(version, name, sql, checksum));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"embedded migrations must be numbered 1, 2, 3, ... without gaps; found {string.Join(", ", migrations.Select(m => m.Name))}");
            }
        }

        if (migrations.Count == 0)
        {
            throw new InvalidOperationException("no embedded migrations found in " + assembly.GetName().Name);
        }

        return migrations;
    }
}

/// <summary>A schema migration could not be applied; the message names the database and the step.</summary>
public sealed class PostgresSchemaException(string message, Exception? innerException = null) : Exception(message, innerException);
