namespace Handoff.Contracts;

/// <summary>How a household maps onto Orleans: one cluster per household, one service for all stored state.</summary>
public static class Households
{
    /// <summary>The Orleans service id: the key of every stored grain state and reminder.</summary>
    public const string ServiceId = "handoff";

    /// <summary>The caller a session opened with the hub's admin token speaks as: no device can have this id.</summary>
    public const string AdminDevice = "@admin";

    /// <summary>
    /// The Orleans cluster id of a household. Distinct per household, so processes of two households on
    /// one machine (or one network) never join each other's cluster, even through a reused port.
    /// </summary>
    public static string ClusterIdOf(string householdId) => $"handoff-{householdId}";
}
