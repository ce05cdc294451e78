using Handoff.Contracts;
using Handoff.Contracts.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization;
using Orleans.Serialization.TypeSystem;

namespace Handoff.Grains.Tests;

public sealed class GrainInterfaceTypeCacheTests
{
    private static readonly IReadOnlyList<Type> Contracts =
        [.. typeof(IPaymentRequestGrain).Assembly.GetTypes().Where(type => type.IsInterface && typeof(IAddressable).IsAssignableFrom(type))];

    [Fact]
    public void Every_grain_contract_resolves_to_the_grain_interface_Orleans_itself_gives()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var names = services.GetRequiredService<TypeConverter>();
        var orleans = new GrainInterfaceTypeResolver([new AttributeGrainInterfaceTypeProvider(services)], names);
        var cached = new GrainInterfaceTypeResolver([new GrainInterfaceTypeCache(services, names)], names);

        Assert.Contains(typeof(IPaymentAbilityGrain), Contracts);
        foreach (var contract in Contracts)
        {
            Assert.Equal(orleans.GetGrainInterfaceType(contract), cached.GetGrainInterfaceType(contract));
            Assert.Equal(orleans.GetGrainInterfaceType(contract), cached.GetGrainInterfaceType(contract));
        }
    }

    [Fact]
    public void It_is_asked_before_Orleans_own_provider_and_registered_once()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IGrainInterfaceTypeProvider, AttributeGrainInterfaceTypeProvider>();
        services.AddGrainInterfaceTypeCache().AddGrainInterfaceTypeCache();

        var providers = services.Where(service => service.ServiceType == typeof(IGrainInterfaceTypeProvider)).Select(service => service.ImplementationType).ToList();
        Assert.Equal([typeof(GrainInterfaceTypeCache), typeof(AttributeGrainInterfaceTypeProvider)], providers);
    }

    [Fact]
    public void A_generic_interface_is_left_to_Orleans()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var cache = new GrainInterfaceTypeCache(services, services.GetRequiredService<TypeConverter>());

        Assert.False(cache.TryGetGrainInterfaceType(typeof(IGrainObserver).MakeArrayType().GetInterfaces().First(type => type.IsGenericType), out _));
        Assert.True(cache.TryGetGrainInterfaceType(typeof(ILedgerGrain), out var ledger));
        Assert.False(ledger.IsDefault);
    }
}
