using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace Handoff.Silo.Storage;

/// <summary>
/// Grain state as UTF-8 JSON: readable with plain SQL and by <c>handoff ledger check</c>, which
/// verifies the ledger over the store without going through the cluster.
/// </summary>
public sealed class JsonGrainStateSerializer : IGrainStorageSerializer
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input) =>
        JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)
        ?? throw new JsonException($"stored state of type {typeof(T).Name} is null");
}
