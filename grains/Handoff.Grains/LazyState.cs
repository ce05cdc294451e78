using Orleans.Storage;

namespace Handoff.Grains;

/// <summary>
/// A grain's persistent state that is read on first use instead of at activation, and that can be created
/// without reading it first. Orleans' <c>[PersistentState]</c> reads every activation's state before the first
/// call; for a grain that is almost always new (a payment), that read finds nothing and costs a database round
/// trip. <see cref="TryCreateAsync"/> writes the new state with no etag instead, which the store accepts only
/// when no record exists (all three stores: the ADO.NET queries of PostgreSQL and SQLite insert only without a
/// row; the hub's memory store checks the same). The rows are the ones <c>[PersistentState]</c> reads and writes
/// (same provider, state name and grain id), so existing records are found as before.
/// </summary>
internal sealed class LazyState<T>(IGrainStorage storage, string stateName, GrainId grainId)
    where T : new()
{
    private readonly GrainState<T> _state = new(new T());

    /// <summary>Whether the state was read or written by this activation (until then it is a new, empty value).</summary>
    public bool Loaded { get; private set; }

    public T State => _state.State!;

    /// <summary>Reads the state unless this activation already has it; true when it was read now.</summary>
    public async ValueTask<bool> LoadAsync()
    {
        if (Loaded)
        {
            return false;
        }

        await storage.ReadStateAsync(stateName, grainId, _state);
        _state.State ??= new T();
        Loaded = true;
        return true;
    }

    /// <summary>
    /// Stores <paramref name="state"/> as a record that did not exist, without reading first. False when a record
    /// (or a cleared one) is already there: nothing was written, and the caller loads and decides.
    /// </summary>
    public async Task<bool> TryCreateAsync(T state)
    {
        if (Loaded)
        {
            throw new InvalidOperationException($"state '{stateName}' of {grainId} is loaded: write it instead of creating it");
        }

        var created = new GrainState<T>(state);
        try
        {
            await storage.WriteStateAsync(stateName, grainId, created);
        }
        catch (InconsistentStateException)
        {
            return false;
        }

        _state.State = state;
        _state.ETag = created.ETag;
        _state.RecordExists = true;
        Loaded = true;
        return true;
    }

    /// <summary>Puts <paramref name="state"/> in place of the loaded value (write it to store it).</summary>
    public void Replace(T state)
    {
        RequireLoaded();
        _state.State = state;
    }

    public Task WriteAsync()
    {
        RequireLoaded();
        return storage.WriteStateAsync(stateName, grainId, _state);
    }

    /// <summary>Clears the stored record and starts over from an empty value.</summary>
    public async Task ClearAsync()
    {
        RequireLoaded();
        await storage.ClearStateAsync(stateName, grainId, _state);
        _state.State = new T();
    }

    private void RequireLoaded()
    {
        if (!Loaded)
        {
            throw new InvalidOperationException($"state '{stateName}' of {grainId} is written before it was read");
        }
    }
}
