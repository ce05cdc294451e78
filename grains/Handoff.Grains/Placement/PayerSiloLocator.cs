using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Handoff.Grains.Placement;

/// <summary>Finds the live silos that carry a payer device, from membership and silo metadata.</summary>
public sealed class PayerSiloLocator(IClusterMembershipService membership, ISiloMetadataCache metadata)
{
    /// <summary>The candidates (default: every active silo) that carry <paramref name="deviceId"/>.</summary>
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

    /// <summary>True when an active silo carries the device: its payment program can run.</summary>
    public bool IsOnline(string deviceId) => SilosCarrying(deviceId).Any();

    private IEnumerable<SiloAddress> ActiveSilos() =>
        membership.CurrentSnapshot.Members.Values
            .Where(member => member.Status == SiloStatus.Active)
            .Select(member => member.SiloAddress);
}
