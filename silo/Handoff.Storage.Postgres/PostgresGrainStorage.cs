using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Handoff.Storage.Postgres;

/// <summary>
/// Grain state of a cluster on PostgreSQL, in table <c>orleans_grain_state</c> of migration
/// <c>0002_orleans_persistence.sql</c>, keyed as Orleans' ADO.NET provider keys it (so databases it wrote read on,
/// and the two can take turns): the state name is <c>grain_type</c> and hashed into <c>grain_type_hash</c>; a Guid key
/// is split into <c>grain_id_n0</c>/<c>grain_id_n1</c> (the two little-endian halves of its bytes), an integer key is
/// <c>grain_id_n1</c>, either one's extension is <c>grain_id_extension</c>; any other key is <c>grain_id_extension</c>
/// whole. <c>grain_id_hash</c> hashes the key's bytes (the Guid's bytes or the integer's little-endian bytes, then
/// the extension's UTF-8, or the string key's UTF-8; the whole reversed) with the options' hasher, Orleans' stable
/// hash by default. The version is the ETag.
/// <para>
/// Writes and clears go through the <see cref="PostgresWriter"/>, so many grains' writes share one commit; reads use
/// pooled connections. A write with a stale ETag, or a first write (no ETag) when a row exists, updates nothing and
/// throws <see cref="InconsistentStateException"/>, alone: the rest of its batch commits. That holds across hubs on
/// one database, since the check is the statement's own (<c>version = @version</c>, or the unique key on insert).
/// A clear keeps the row with no payload and a new version, so a stale activation's later write is still refused.
/// </para>
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage
{
    private const string Columns = "service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1, grain_id_extension";

    private readonly string _name;
    private readonly string _connectionString;
    private readonly string _serviceId;
    private readonly Func<PostgresWriter> _writer;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IStorageHasherPicker _hashers;
    private readonly IActivatorProvider _activators;

    /// <param name="name">The storage's name (in conflict messages).</param>
    /// <param name="connectionString">The database, for reads (writes go through <paramref name="writer"/>).</param>
    /// <param name="serviceId">The cluster's service id: rows of other services are never touched.</param>
    /// <param name="writer">The writer that commits this storage's writes (asked at every write, so a shared writer that was replaced is followed).</param>
    /// <param name="serializer">Turns a state into the payload and back.</param>
    /// <param name="hashers">Picks the hash of the key columns; null: Orleans' default (<see cref="OrleansDefaultHasher"/>), as the ADO.NET provider's.</param>
    /// <param name="activators">Makes the empty state of a grain with no record.</param>
    public PostgresGrainStorage(
        string name,
        string connectionString,
        string serviceId,
        Func<PostgresWriter> writer,
        IGrainStorageSerializer serializer,
        IStorageHasherPicker? hashers,
        IActivatorProvider activators)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(activators);
        _name = name;
        _connectionString = connectionString;
        _serviceId = serviceId;
        _writer = writer;
        _serializer = serializer;
        _hashers = hashers ?? new StorageHasherPicker([new OrleansDefaultHasher()]);
        _activators = activators;
    }

    /// <summary>
    /// The storage named <paramref name="name"/> of a silo: the serializer and hasher are those of its
    /// <see cref="AdoNetGrainStorageOptions"/> (what the host configured for the ADO.NET provider this replaces), the
    /// serializer otherwise the silo's default; writes go through the process's <see cref="PostgresWriter.Shared"/>.
    /// </summary>
    public static PostgresGrainStorage Create(IServiceProvider services, string name, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get(name);
        if (options.DeleteStateOnClear)
        {
            throw new NotSupportedException($"grain storage '{name}': DeleteStateOnClear is not supported on PostgreSQL (a clear keeps the row so that a stale activation's write is still refused)");
        }

        var loggers = services.GetService<ILoggerFactory>();
        return new PostgresGrainStorage(
            name,
            connectionString,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            () => PostgresWriter.Shared(connectionString, loggers),
            options.GrainStorageSerializer ?? services.GetRequiredService<IGrainStorageSerializer>(),
            options.HashPicker,
            services.GetRequiredService<IActivatorProvider>());
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = RowKeyOf(stateName, grainId, grainState);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT payload, version FROM orleans_grain_state WHERE {Where(key)}", connection);
        Bind(command.Parameters, key);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.State = _activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        var etag = reader.GetInt32(1).ToString(CultureInfo.InvariantCulture);
        if (reader.IsDBNull(0))
        {
            // A cleared record: no state, but its version goes on.
            grainState.State = _activators.GetActivator<T>().Create();
            grainState.RecordExists = false;
        }
        else
        {
            grainState.State = _serializer.Deserialize<T>(new BinaryData(reader.GetFieldValue<byte[]>(0)));
            grainState.RecordExists = true;
        }

        grainState.ETag = etag;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = RowKeyOf(stateName, grainId, grainState);
        var etag = grainState.ETag;
        var expected = ExpectedVersion("WriteState", stateName, grainId, etag);
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var sql = expected is null
            ? $"""
               INSERT INTO orleans_grain_state ({Columns}, payload, version)
               VALUES (@service, @type_hash, @id_hash, @type, @n0, @n1, {(key.Extension is null ? "NULL" : "@extension")}, @payload, 1)
               ON CONFLICT ON CONSTRAINT orleans_grain_state_key DO NOTHING
               RETURNING version
               """
            : $"""
               UPDATE orleans_grain_state SET payload = @payload, version = version + 1, modified_at = now()
               WHERE {Where(key)} AND version = @version
               RETURNING version
               """;

        var version = await _writer().WriteAsync(
            () =>
            {
                var command = new NpgsqlBatchCommand(sql);
                Bind(command.Parameters, key);
                command.Parameters.Add(new NpgsqlParameter<byte[]>("payload", NpgsqlDbType.Bytea) { TypedValue = payload });
                if (expected is { } value)
                {
                    command.Parameters.Add(new NpgsqlParameter<int>("version", NpgsqlDbType.Integer) { TypedValue = value });
                }

                return command;
            },
            NewVersionAsync);

        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture) ?? throw Conflict("WriteState", stateName, grainId, etag);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!grainState.RecordExists && string.IsNullOrWhiteSpace(grainState.ETag))
        {
            // Nothing known of the record: clear what is stored, if anything is.
            await ReadStateAsync(stateName, grainId, grainState);
            if (!grainState.RecordExists)
            {
                return;
            }
        }

        var key = RowKeyOf(stateName, grainId, grainState);
        var etag = grainState.ETag;
        var expected = ExpectedVersion("ClearState", stateName, grainId, etag) ?? throw Conflict("ClearState", stateName, grainId, etag);
        var sql = $"""
            UPDATE orleans_grain_state SET payload = NULL, version = version + 1, modified_at = now()
            WHERE {Where(key)} AND version = @version
            RETURNING version
            """;

        var version = await _writer().WriteAsync(
            () =>
            {
                var command = new NpgsqlBatchCommand(sql);
                Bind(command.Parameters, key);
                command.Parameters.Add(new NpgsqlParameter<int>("version", NpgsqlDbType.Integer) { TypedValue = expected });
                return command;
            },
            NewVersionAsync);

        grainState.ETag = version?.ToString(CultureInfo.InvariantCulture) ?? throw Conflict("ClearState", stateName, grainId, etag);
        grainState.State = _activators.GetActivator<T>().Create();
        grainState.RecordExists = false;
    }

    /// <summary>
    /// The key columns of a state's row as Orleans' ADO.NET provider writes them: (grain_id_n0, grain_id_n1,
    /// grain_id_extension) and the bytes that <c>grain_id_hash</c> hashes.
    /// </summary>
    public static (long N0, long N1, string? Extension, byte[] HashBytes) KeyOf(GrainId grainId)
    {
        byte[] bytes;
        long n0;
        long n1;
        string? extension;
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            var guidBytes = guid.ToByteArray();
            (n0, n1, extension) = (BinaryPrimitives.ReadInt64LittleEndian(guidBytes), BinaryPrimitives.ReadInt64LittleEndian(guidBytes.AsSpan(8)), guidExtension);
            bytes = [.. guidBytes, .. Utf8(extension)];
        }
        else if (grainId.TryGetIntegerKey(out var integer, out var integerExtension))
        {
            (n0, n1, extension) = (0, integer, integerExtension);
            var integerBytes = new byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(integerBytes, integer);
            bytes = [.. integerBytes, .. Utf8(extension)];
        }
        else
        {
            (n0, n1, extension) = (0, 0, grainId.Key.ToString());
            bytes = Utf8(extension);
        }

        Array.Reverse(bytes);
        return (n0, n1, extension, bytes);

        static byte[] Utf8(string? text) => text is null ? [] : Encoding.UTF8.GetBytes(text);
    }

    private static async Task<int?> NewVersionAsync(NpgsqlDataReader reader, CancellationToken cancellation) =>
        await reader.ReadAsync(cancellation) ? reader.GetInt32(0) : null;

    private RowKey RowKeyOf<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        if (stateName.Contains('`', StringComparison.Ordinal))
        {
            // The ADO.NET provider rewrites generic type names before hashing them; no Handoff state is named so.
            throw new NotSupportedException($"grain storage '{_name}': state name '{stateName}' looks like a generic type name, which this storage does not key");
        }

        var hasher = _hashers.PickHasher(_serviceId, _name, stateName, grainId, grainState)
            ?? throw new InvalidOperationException($"grain storage '{_name}': the hasher picker chose no hasher for state '{stateName}' of {grainId}");
        var (n0, n1, extension, hashBytes) = KeyOf(grainId);
        return new RowKey(hasher.Hash(Encoding.UTF8.GetBytes(stateName)), hasher.Hash(hashBytes), stateName, n0, n1, extension);
    }

    // "IS NULL" rather than "IS NOT DISTINCT FROM @extension": an index can serve the one, not the other.
    private static string Where(RowKey key) => $"""
        service_id = @service AND grain_type_hash = @type_hash AND grain_id_hash = @id_hash AND grain_type = @type
            AND grain_id_n0 = @n0 AND grain_id_n1 = @n1 AND grain_id_extension {(key.Extension is null ? "IS NULL" : "= @extension")}
        """;

    private void Bind(NpgsqlParameterCollection parameters, RowKey key)
    {
        parameters.Add(new NpgsqlParameter<string>("service", NpgsqlDbType.Text) { TypedValue = _serviceId });
        parameters.Add(new NpgsqlParameter<int>("type_hash", NpgsqlDbType.Integer) { TypedValue = key.TypeHash });
        parameters.Add(new NpgsqlParameter<int>("id_hash", NpgsqlDbType.Integer) { TypedValue = key.IdHash });
        parameters.Add(new NpgsqlParameter<string>("type", NpgsqlDbType.Text) { TypedValue = key.Type });
        parameters.Add(new NpgsqlParameter<long>("n0", NpgsqlDbType.Bigint) { TypedValue = key.N0 });
        parameters.Add(new NpgsqlParameter<long>("n1", NpgsqlDbType.Bigint) { TypedValue = key.N1 });
        if (key.Extension is not null)
        {
            parameters.Add(new NpgsqlParameter<string>("extension", NpgsqlDbType.Text) { TypedValue = key.Extension });
        }
    }

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? etag) =>
        new($"Version conflict ({operation}): ServiceId={_serviceId} ProviderName={_name} GrainType={stateName} GrainId={grainId} ETag={etag}.", storedEtag: null, currentEtag: etag);

    /// <summary>The version an ETag stands for (null: no record expected), or a conflict for an ETag this storage never gave.</summary>
    private int? ExpectedVersion(string operation, string stateName, GrainId grainId, string? etag) =>
        string.IsNullOrWhiteSpace(etag) ? null
        : int.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw Conflict(operation, stateName, grainId, etag);

    private readonly record struct RowKey(int TypeHash, int IdHash, string Type, long N0, long N1, string? Extension);
}
