using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace Handoff.Contracts.Hosting;

/// <summary>
/// Answers which grain interface a .NET interface is once per interface, not on every <c>GetGrain</c>: Orleans
/// reads the interface's attributes (instantiating each one) and formats its name again on every call, which cost a
/// payment's authority several percent of its processor time. The answer is the one Orleans gives (its attribute
/// provider, else its naming convention); generic interfaces are left to Orleans.
/// </summary>
public sealed class GrainInterfaceTypeCache(IServiceProvider services, TypeConverter names) : IGrainInterfaceTypeProvider
{
    private readonly ConcurrentDictionary<Type, GrainInterfaceType> _known = new();
    private readonly GrainInterfaceTypeResolver _orleans = new([new AttributeGrainInterfaceTypeProvider(services)], names);

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        if (type.IsGenericType || !type.IsInterface)
        {
            grainInterfaceType = default;
            return false;
        }

        grainInterfaceType = _known.GetOrAdd(type, static (type, orleans) => orleans.GetGrainInterfaceType(type), _orleans);
        return true;
    }
}

/// <summary>Puts <see cref="GrainInterfaceTypeCache"/> before Orleans' own providers, on a silo or a client.</summary>
public static class GrainInterfaceTypeCacheExtensions
{
    public static IServiceCollection AddGrainInterfaceTypeCache(this IServiceCollection services)
    {
        if (!services.Any(service => service.ImplementationType == typeof(GrainInterfaceTypeCache)))
        {
            // Orleans asks its providers in the order they were registered, and the first answer wins.
            services.Insert(0, ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider, GrainInterfaceTypeCache>());
        }

        return services;
    }
}
