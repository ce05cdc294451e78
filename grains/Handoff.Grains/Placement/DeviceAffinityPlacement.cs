using Handoff.Contracts;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Handoff.Grains.Placement;

/// <summary>Places a grain keyed by a device id on the silo that carries that device, and nowhere else.</summary>
[GenerateSerializer, Alias("handoff.DeviceAffinityPlacement")]
public sealed class DeviceAffinityPlacement : PlacementStrategy
{
    public static DeviceAffinityPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class for <see cref="DeviceAffinityPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DeviceAffinityPlacementAttribute() : PlacementAttribute(DeviceAffinityPlacement.Instance);

/// <summary>
/// Chooses among the compatible silos those whose metadata lists the device. With none, placement
/// fails at once with <see cref="PayerOfflineException"/>: a payment program never runs elsewhere.
/// </summary>
public sealed class DeviceAffinityPlacementDirector(PayerSiloLocator locator) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var deviceId = target.GrainIdentity.Key.ToString()!;
        var compatible = context.GetCompatibleSilos(target);
        var carriers = locator.SilosCarrying(deviceId, compatible).ToArray();
        if (carriers.Length == 0)
        {
            return Task.FromException<SiloAddress>(new PayerOfflineException(deviceId));
        }

        return Task.FromResult(carriers.Length == 1 ? carriers[0] : carriers[Random.Shared.Next(carriers.Length)]);
    }
}
