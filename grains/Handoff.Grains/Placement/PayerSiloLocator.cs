using Handoff.Grains.Payer;
using Orleans.Metadata;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Handoff.Grains.Placement;

/// <summary>Finds the live silos that carry a payer device, from membership, silo metadata and the cluster manifest.</summary>
public sealed class PayerSiloLocator(
    IClusterMembershipService membership,
    ISiloMetadataCache metadata,
    IClusterManifestProvider manifests,
    GrainTypeResolver grainTypes)
{
    private readonly GrainType _abilityType = grainTypes.GetGrainType(typeof(PaymentAbilityGrain));

    /// <summary>The candidates (by default every active silo) that carry <paramref name="deviceId"/>.</summary>
    public IEnumerable<SiloAddress> SilosCarrying(string deviceId, IEnumerable<SiloAddress>? candidates = null)
    {
        candidates ??= ActiveSilos();
        foreach (var silo in candidates)
        {
            if (SiloTags.CarriesDevice(metadata.GetSiloMetadata(silo).Metadata, deviceId))
            {
                yield return silo;
            }
        }
    }

    /// <summary>
    /// True when placement would succeed now: an active silo carries the device and the cluster
    /// manifest already lists that silo as hosting the payment program.
    /// </summary>
    public bool IsOnline(string deviceId)
    {
        var current = manifests.Current.Silos;
        return SilosCarrying(deviceId).Any(silo => current.TryGetValue(silo, out var manifest) && manifest.Grains.ContainsKey(_abilityType));
    }

    private IEnumerable<SiloAddress> ActiveSilos() =>
        membership.CurrentSnapshot.Members.Values
            .Where(member => member.Status == SiloStatus.Active)
            .Select(member => member.SiloAddress);
}
