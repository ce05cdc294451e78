using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Handoff.Silo.Storage;

/// <summary>
/// Grain state of the embedded hub in table <c>handoff_grain_state</c>, written through the file's
/// <see cref="SqliteWriter"/> (many grains' writes share one commit) and read on pooled connections (WAL lets
/// readers run beside the writer). Rows are those that Orleans' ADO.NET provider wrote with the queries of
/// earlier versions of <c>sqlite-schema.sql</c>, so existing files read on: the state name is <c>grain_type</c>;
/// a Guid key is split into <c>grain_n0</c>/<c>grain_n1</c> (its two little-endian halves), an integer key is
/// <c>grain_n1</c>, and either's extension is <c>grain_key</c>; any other key is <c>grain_key</c> whole. The
/// payload is the state's JSON, the version counts every write and clear.
/// <para>
/// ETags are the version: a write with a stale one, or a write without one (a create) when a row exists (also a
/// cleared one), throws <see cref="InconsistentStateException"/>; a clear with one only clears that version, a
/// clear without one clears whatever is stored.
/// </para>
/// </summary>
public sealed class SqliteGrainStorage(
    string name,
    string connectionString,
    string serviceId,
    SqliteWriter writer,
    IGrainStorageSerializer serializer,
    IActivatorProvider activators) : IGrainStorage
{
    private const string Key = """
        service_id = $service AND grain_type = $type AND grain_n0 = $n0 AND grain_n1 = $n1 AND grain_key = $key
        """;

    private const string Now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT payload, version FROM handoff_grain_state WHERE {Key};";
        Bind(command, stateName, grainId);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        var etag = reader.GetInt64(1).ToString(CultureInfo.InvariantCulture);
        if (reader.IsDBNull(0))
        {
            // A cleared record: no state, but its version goes on.
            grainState.State = activators.GetActivator<T>().Create();
            grainState.RecordExists = false;
        }
        else
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(reader.GetFieldValue<byte[]>(0)));
            grainState.RecordExists = true;
        }

        grainState.ETag = etag;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.Serialize(grainState.State).ToArray();
        var etag = grainState.ETag;
        var expected = ExpectedVersion("WriteState", stateName, grainId, etag);

        var version = await writer.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = expected is null
                ? $"""
                   INSERT INTO handoff_grain_state (service_id, grain_type, grain_n0, grain_n1, grain_key, payload, version, modified_at)
                   VALUES ($service, $type, $n0, $n1, $key, $payload, 1, {Now})
                   ON CONFLICT DO NOTHING
                   RETURNING version;
                   """
                : $"""
                   UPDATE handoff_grain_state SET payload = $payload, version = version + 1, modified_at = {Now}
                   WHERE {Key} AND version = $version
                   RETURNING version;
                   """;
            Bind(command, stateName, grainId);
            command.Parameters.AddWithValue("$payload", payload);
            if (expected is { } value)
            {
                command.Parameters.AddWithValue("$version", value);
            }

            return command.ExecuteScalar() is long written ? written : (long?)null;
        });

        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture) ?? throw Conflict("WriteState", stateName, grainId, etag);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var etag = grainState.ETag;
        var expected = ExpectedVersion("ClearState", stateName, grainId, etag);

        var version = await writer.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"""
                UPDATE handoff_grain_state SET payload = NULL, version = version + 1, modified_at = {Now}
                WHERE {Key}{(expected is null ? string.Empty : " AND version = $version")}
                RETURNING version;
                """;
            Bind(command, stateName, grainId);
            if (expected is { } value)
            {
                command.Parameters.AddWithValue("$version", value);
            }

            return command.ExecuteScalar() is long cleared ? cleared : (long?)null;
        });

        if (version is null && etag is not null)
        {
            throw Conflict("ClearState", stateName, grainId, etag);
        }

        // Without an etag and without a row there was nothing to clear: the etag stays null.
        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture);
        grainState.State = activators.GetActivator<T>().Create();
        grainState.RecordExists = false;
    }

    /// <summary>The row key of <paramref name="grainId"/> as the ADO.NET provider laid it out: (grain_n0, grain_n1, grain_key).</summary>
    public static (long N0, long N1, string Key) RowKey(GrainId grainId)
    {
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            Span<byte> bytes = stackalloc byte[16];
            guid.TryWriteBytes(bytes);
            return (BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]), guidExtension ?? string.Empty);
        }

        if (grainId.TryGetIntegerKey(out var integer, out var integerExtension))
        {
            return (0, integer, integerExtension ?? string.Empty);
        }

        return (0, 0, grainId.Key.ToString());
    }

    private void Bind(SqliteCommand command, string stateName, GrainId grainId)
    {
        var (n0, n1, key) = RowKey(grainId);
        command.Parameters.AddWithValue("$service", serviceId);
        command.Parameters.AddWithValue("$type", stateName);
        command.Parameters.AddWithValue("$n0", n0);
        command.Parameters.AddWithValue("$n1", n1);
        command.Parameters.AddWithValue("$key", key);
    }

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? etag) =>
        new($"Version conflict ({operation}): ServiceId={serviceId} ProviderName={name} GrainType={stateName} GrainId={grainId} ETag={etag}.", storedEtag: null, currentEtag: etag);

    /// <summary>The version an etag stands for (null: no record expected), or a conflict for an etag this store never gave.</summary>
    private long? ExpectedVersion(string operation, string stateName, GrainId grainId, string? etag) =>
        etag is null ? null
        : long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw Conflict(operation, stateName, grainId, etag);

}
