using Handoff.Contracts.Security;

namespace Handoff.Bench;

/// <summary>A trivial grain: the raw cost of one Orleans call on the household's silo setup.</summary>
[Alias("bench.IPingGrain")]
public interface IPingGrain : IGrainWithIntegerKey
{
    // No session: it measures an Orleans call through the hub's call filter, which lets it pass without a MAC check.
    [Alias("Ping"), NoSession]
    Task<int> PingAsync(int value);
}

/// <summary>Answers at once; placed on the silo whose gateway received the call (the hub).</summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);
}
