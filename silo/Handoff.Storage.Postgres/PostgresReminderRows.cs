using System.Globalization;
using Handoff.Grains.Reminders;
using Npgsql;
using NpgsqlTypes;

namespace Handoff.Storage.Postgres;

/// <summary>
/// Removes many rows of the reminder table (migration <c>0003_orleans_reminders.sql</c>) in one statement: each
/// row only at the version given, exactly as Orleans' own <c>DeleteReminderRowKey</c> removes one.
/// </summary>
public sealed class PostgresReminderRows(string connectionString, string serviceId) : IReminderRowBatchRemover
{
    private const string RemoveSql = """
        DELETE FROM orleans_reminder AS r
        USING unnest(@grains, @names, @versions) AS d (grain_id, reminder_name, version)
        WHERE r.service_id = @service
            AND r.grain_id = d.grain_id AND r.reminder_name = d.reminder_name AND r.version = d.version
        """;

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
