using System.Globalization;
using Handoff.Grains.Reminders;
using Npgsql;
using NpgsqlTypes;

namespace Handoff.Storage.Postgres;

/// <summary>
/// Writes or removes many rows of the reminder table (migration <c>0003_orleans_reminders.sql</c>) in one
/// statement, with the meaning per row of Orleans' own <c>UpsertReminderRowKey</c> (insert at version 1, or
/// update and add 1) and <c>DeleteReminderRowKey</c> (remove only at the version given).
/// </summary>
public sealed class PostgresReminderRows(string connectionString, string serviceId) : IReminderRowBatches
{
    private const string UpsertSql = """
        INSERT INTO orleans_reminder AS r (service_id, grain_id, reminder_name, grain_hash, start_time, period_ms, version)
        SELECT @service, d.grain_id, d.reminder_name, d.grain_hash, d.start_time, d.period_ms, 1
        FROM unnest(@grains, @names, @hashes, @starts, @periods) AS d (grain_id, reminder_name, grain_hash, start_time, period_ms)
        ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
        SET grain_hash = excluded.grain_hash,
            start_time = excluded.start_time,
            period_ms = excluded.period_ms,
            version = r.version + 1
        RETURNING r.grain_id, r.reminder_name, r.version
        """;

    private const string RemoveSql = """
        DELETE FROM orleans_reminder AS r
        USING unnest(@grains, @names, @versions) AS d (grain_id, reminder_name, version)
        WHERE r.service_id = @service
            AND r.grain_id = d.grain_id AND r.reminder_name = d.reminder_name AND r.version = d.version
        """;

    public async Task<IReadOnlyList<string>> UpsertRowsAsync(IReadOnlyList<ReminderEntry> rows, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return [];
        }

        var grains = new string[rows.Count];
        var names = new string[rows.Count];
        var hashes = new int[rows.Count];
        var starts = new DateTime[rows.Count];
        var periods = new long[rows.Count];
        var positions = new Dictionary<(string, string), int>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            grains[i] = rows[i].GrainId.ToString();
            names[i] = rows[i].ReminderName;
            hashes[i] = unchecked((int)rows[i].GrainId.GetUniformHashCode());
            starts[i] = rows[i].StartAt.ToUniversalTime();
            periods[i] = (long)rows[i].Period.TotalMilliseconds;
            if (!positions.TryAdd((grains[i], names[i]), i))
            {
                throw new ArgumentException($"reminder '{names[i]}' of {grains[i]} is in the batch twice", nameof(rows));
            }
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(UpsertSql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<string>("service", serviceId),
                new NpgsqlParameter<string[]>("grains", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = grains },
                new NpgsqlParameter<string[]>("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = names },
                new NpgsqlParameter<int[]>("hashes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = hashes },
                new NpgsqlParameter<DateTime[]>("starts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = starts },
                new NpgsqlParameter<long[]>("periods", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = periods },
            },
        };
        var etags = new string[rows.Count];
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            etags[positions[(reader.GetString(0), reader.GetString(1))]] = reader.GetInt32(2).ToString(CultureInfo.InvariantCulture);
        }

        return etags;
    }

    public async Task<int> RemoveRowsAsync(IReadOnlyList<ReminderRowKey> rows, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return 0;
        }

        var grains = new string[rows.Count];
        var names = new string[rows.Count];
        var versions = new int[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            grains[i] = rows[i].GrainId.ToString();
            names[i] = rows[i].ReminderName;
            versions[i] = int.Parse(rows[i].ETag, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(RemoveSql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<string>("service", serviceId),
                new NpgsqlParameter<string[]>("grains", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = grains },
                new NpgsqlParameter<string[]>("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = names },
                new NpgsqlParameter<int[]>("versions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = versions },
            },
        };
        return await command.ExecuteNonQueryAsync(cancellation);
    }
}
