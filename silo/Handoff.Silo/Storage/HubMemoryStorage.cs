using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Handoff.Silo.Storage;

/// <summary>
/// Grain state in the hub's own memory (the <c>--storage memory</c> mode): nothing survives the process.
/// Every stateful grain of a household lives on its hub, so the store needs no grain of its own: a write is
/// an in-process dictionary update, not a call to Orleans' memory-storage grains. States are kept as Orleans
/// binary payloads, so a grain never shares a mutable object with the store.
/// </summary>
public sealed class HubMemoryStorage(Serializer serializer, IActivatorProvider activators) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Stored> _states = new();
    private long _lastEtag;

    /// <summary>States held now (for diagnostics and tests).</summary>
    public int Count => _states.Count;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue((stateName, grainId), out var stored))
        {
            grainState.State = serializer.Deserialize<T>(stored.Payload);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        var written = new Stored(serializer.SerializeToArray(grainState.State), NextEtag());
        if (grainState.ETag is null)
        {
            if (!_states.TryAdd(key, written))
            {
                throw Mismatch(stateName, grainId, grainState.ETag);
            }
        }
        else if (!_states.TryGetValue(key, out var current)
            || current.ETag != grainState.ETag
            || !_states.TryUpdate(key, written, current))
        {
            throw Mismatch(stateName, grainId, grainState.ETag);
        }

        grainState.ETag = written.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (grainState.ETag is not null
            && (!_states.TryGetValue(key, out var current)
                || current.ETag != grainState.ETag
                || !_states.TryRemove(new KeyValuePair<(string, GrainId), Stored>(key, current))))
        {
            throw Mismatch(stateName, grainId, grainState.ETag);
        }

        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private string NextEtag() => Interlocked.Increment(ref _lastEtag).ToString(CultureInfo.InvariantCulture);

    private InconsistentStateException Mismatch(string stateName, GrainId grainId, string? etag) =>
        new($"state '{stateName}' of {grainId} was changed by someone else", storedEtag: _states.TryGetValue((stateName, grainId), out var current) ? current.ETag : null, currentEtag: etag);

    private sealed record Stored(byte[] Payload, string ETag);
}
