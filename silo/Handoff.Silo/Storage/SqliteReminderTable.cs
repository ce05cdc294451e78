using System.Globalization;
using Handoff.Grains.Reminders;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Handoff.Silo.Storage;

/// <summary>Where the embedded hub's reminders are kept.</summary>
public sealed class SqliteReminderOptions
{
    public string ConnectionString { get; set; } = string.Empty;
}

/// <summary>
/// Orleans reminders in the embedded hub's SQLite file, so a payment's deadline and recovery survive
/// a restart of the hub without any server. Ranges follow Orleans' ring: (begin, end], wrapping when begin >= end.
/// Rows are written through the file's <see cref="SqliteWriter"/> (a call's rows in one write, so they commit
/// together, with other writes of the hub); they are read on pooled connections of their own.
/// </summary>
/// <param name="writer">The file's writer; null: this process's shared writer of the file (<see cref="SqliteWriter.Shared"/>).</param>
public sealed class SqliteReminderTable(IOptions<SqliteReminderOptions> options, IOptions<ClusterOptions> cluster, SqliteWriter? writer = null)
    : IReminderTable, IReminderRowBatches
{
    private readonly string _connectionString = options.Value.ConnectionString;
    private readonly string _serviceId = cluster.Value.ServiceId;
    private readonly SqliteWriter _writer = writer ?? SqliteWriter.Shared(options.Value.ConnectionString);

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<ReminderTableData> ReadRows(GrainId grainId) =>
        new(await QueryAsync("grain_id = $grain", command => command.Parameters.AddWithValue("$grain", grainId.ToString())));

    public async Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        var filter = begin < end ? "grain_hash > $begin AND grain_hash <= $end" : "(grain_hash > $begin OR grain_hash <= $end)";
        return new(await QueryAsync(filter, command =>
        {
            command.Parameters.AddWithValue("$begin", (long)begin);
            command.Parameters.AddWithValue("$end", (long)end);
        }));
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        (await QueryAsync("grain_id = $grain AND reminder_name = $name", command =>
        {
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$name", reminderName);
        })).SingleOrDefault();

    public Task<string?> UpsertRow(ReminderEntry entry) => _writer.WriteAsync((connection, transaction) =>
    {
        using var command = UpsertCommand(connection, transaction);
        Bind(command, entry);
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    });

    /// <summary>Upserts the rows in one write (one synced commit for all of them).</summary>
    public Task<IReadOnlyList<string>> UpsertRowsAsync(IReadOnlyList<ReminderEntry> rows, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return _writer.WriteAsync<IReadOnlyList<string>>((connection, transaction) =>
        {
            using var command = UpsertCommand(connection, transaction);
            var etags = new string[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                command.Parameters.Clear();
                Bind(command, rows[i]);
                etags[i] = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
            }

            return etags;
        }, cancellation);
    }

    private static SqliteCommand UpsertCommand(SqliteConnection connection, SqliteTransaction transaction)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO handoff_reminder (service_id, grain_id, reminder_name, grain_hash, start_at, period_ms, version)
            VALUES ($service, $grain, $name, $hash, $start, $period, 1)
            ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
            SET start_at = excluded.start_at, period_ms = excluded.period_ms, version = version + 1
            RETURNING version;
            """;
        return command;
    }

    private void Bind(SqliteCommand command, ReminderEntry entry)
    {
        command.Parameters.AddWithValue("$service", _serviceId);
        command.Parameters.AddWithValue("$grain", entry.GrainId.ToString());
        command.Parameters.AddWithValue("$name", entry.ReminderName);
        command.Parameters.AddWithValue("$hash", (long)entry.GrainId.GetUniformHashCode());
        command.Parameters.AddWithValue("$start", entry.StartAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$period", (long)entry.Period.TotalMilliseconds);
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) =>
        await RemoveRowsAsync([new ReminderRowKey(grainId, reminderName, eTag)], CancellationToken.None) == 1;

    /// <summary>Removes the rows, each only at its version, in one write (one synced commit for all of them).</summary>
    public Task<int> RemoveRowsAsync(IReadOnlyList<ReminderRowKey> rows, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return Task.FromResult(0);
        }

        // Parsed here, so a malformed etag fails the caller without reaching the writer.
        var versions = rows.Select(row => long.Parse(row.ETag, CultureInfo.InvariantCulture)).ToArray();
        return _writer.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                DELETE FROM handoff_reminder
                WHERE service_id = $service AND grain_id = $grain AND reminder_name = $name AND version = $version;
                """;
            command.Parameters.AddWithValue("$service", _serviceId);
            var grain = command.Parameters.Add("$grain", SqliteType.Text);
            var name = command.Parameters.Add("$name", SqliteType.Text);
            var version = command.Parameters.Add("$version", SqliteType.Integer);
            var removed = 0;
            for (var i = 0; i < rows.Count; i++)
            {
                grain.Value = rows[i].GrainId.ToString();
                name.Value = rows[i].ReminderName;
                version.Value = versions[i];
                removed += command.ExecuteNonQuery();
            }

            return removed;
        }, cancellation);
    }

    public Task TestOnlyClearTable() => _writer.WriteAsync((connection, transaction) =>
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM handoff_reminder WHERE service_id = $service;";
        command.Parameters.AddWithValue("$service", _serviceId);
        return command.ExecuteNonQuery();
    });

    private async Task<List<ReminderEntry>> QueryAsync(string filter, Action<SqliteCommand> bind)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT grain_id, reminder_name, start_at, period_ms, version
            FROM handoff_reminder
            WHERE service_id = $service AND {filter};
            """;
        command.Parameters.AddWithValue("$service", _serviceId);
        bind(command);
        var entries = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            entries.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(reader.GetString(0)),
                ReminderName = reader.GetString(1),
                StartAt = DateTime.Parse(reader.GetString(2), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                Period = TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                ETag = reader.GetInt64(4).ToString(CultureInfo.InvariantCulture),
            });
        }

        return entries;
    }

    private async Task<SqliteConnection> OpenAsync()
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }
}
