using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Handoff.Testing;

/// <summary>
/// An Orleans client learns the cluster's grain types from the silo it first reaches, which may be a payer silo that
/// does not know the hub's yet; by default it asks again only once a minute. These make a test client ask often and
/// wait until it knows a grain type, instead of failing its first call with "Could not find an implementation".
/// </summary>
public static class ClientGrainTypes
{
    /// <summary>Has the client re-read the cluster's grain types every 500 ms.</summary>
    public static IClientBuilder RefreshOften(this IClientBuilder client) =>
        client.Configure<TypeManagementOptions>(types => types.TypeMapRefreshInterval = TimeSpan.FromMilliseconds(500));

    /// <summary>Waits (bounded) until <paramref name="client"/> can make a reference to <typeparamref name="TGrain"/>.</summary>
    public static Task WaitForAsync<TGrain>(IGrainFactory client, TimeSpan? timeout = null)
        where TGrain : IGrainWithStringKey =>
        BoundedWait.UntilAsync(
            () => Task.FromResult(Resolves<TGrain>(client)),
            $"the client to know the cluster's grain type {typeof(TGrain).Name}",
            timeout ?? TimeSpan.FromSeconds(30));

    private static bool Resolves<TGrain>(IGrainFactory client)
        where TGrain : IGrainWithStringKey
    {
        try
        {
            client.GetGrain<TGrain>("probe");
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
