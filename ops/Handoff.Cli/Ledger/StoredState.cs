using System.Text.Json;
using Handoff.Grains;
using Handoff.Silo.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Handoff.Cli.Ledger;

/// <summary>Payments and ledgers read straight from a hub's durable store, not through the cluster.</summary>
internal sealed record StoredState(IReadOnlyDictionary<string, PaymentRecord> Payments, IReadOnlyDictionary<string, LedgerRecord> Ledgers)
{
    private const string ServiceId = "handoff";

    /// <summary>Reads the embedded store in <paramref name="dataDirectory"/>.</summary>
    public static async Task<StoredState> FromSqliteAsync(string dataDirectory, CancellationToken cancellation)
    {
        var file = Path.Combine(Path.GetFullPath(dataDirectory), SqliteStore.FileName);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"no hub store at '{file}' (is --data the hub's data folder?)");
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT grain_type, grain_key, payload FROM handoff_grain_state
            WHERE service_id = $service AND grain_type IN ('payment', 'ledger') AND payload IS NOT NULL;
            """;
        command.Parameters.AddWithValue("$service", ServiceId);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await ReadAsync(reader, cancellation);
    }

    /// <summary>Reads a cluster's PostgreSQL store.</summary>
    public static async Task<StoredState> FromPostgresAsync(string connectionString, CancellationToken cancellation)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT grain_type, coalesce(grain_id_extension, ''), payload FROM orleans_grain_state
            WHERE service_id = @service AND grain_type IN ('payment', 'ledger') AND payload IS NOT NULL;
            """;
        command.Parameters.AddWithValue("service", ServiceId);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await ReadAsync(reader, cancellation);
    }

    private static async Task<StoredState> ReadAsync(System.Data.Common.DbDataReader reader, CancellationToken cancellation)
    {
        var payments = new Dictionary<string, PaymentRecord>(StringComparer.Ordinal);
        var ledgers = new Dictionary<string, LedgerRecord>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellation))
        {
            var kind = reader.GetString(0);
            var key = reader.GetString(1);
            var payload = (byte[])reader.GetValue(2);
            try
            {
                if (kind == "payment")
                {
                    payments[key] = JsonSerializer.Deserialize<PaymentRecord>(payload, JsonGrainStateSerializer.Options)!;
                }
                else
                {
                    ledgers[key] = JsonSerializer.Deserialize<LedgerRecord>(payload, JsonGrainStateSerializer.Options)!;
                }
            }
            catch (JsonException malformed)
            {
                throw new InvalidDataException($"stored {kind} '{key}' is not readable: {malformed.Message}", malformed);
            }
        }

        return new StoredState(payments, ledgers);
    }
}
