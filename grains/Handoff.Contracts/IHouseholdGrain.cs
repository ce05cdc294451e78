using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>A household (key: household id): its device roster, its pairing code and its recent payments.</summary>
[Alias("handoff.IHouseholdGrain")]
public interface IHouseholdGrain : IGrainWithStringKey
{
    /// <summary>Issues a new one-time pairing code (6 digits, 120 s, 3 tries), replacing any earlier one (admin).</summary>
    [Alias("CreatePairingCode"), NoSession]
    Task<PairingCode> CreatePairingCodeAsync(string adminToken);

    /// <summary>A new device joins with the current pairing code and its public key.</summary>
    [Alias("PairDevice"), NoSession]
    Task<DeviceStatus> PairDeviceAsync(string code, DeviceRegistration registration, byte[] publicKey);

    /// <summary>A session credential for the household's administrator, in exchange for the hub's admin token.</summary>
    [Alias("OpenAdminSession"), NoSession]
    Task<SessionGrant> OpenAdminSessionAsync(string adminToken);

    /// <summary>Every device of the household, with presence.</summary>
    [Alias("ListDevices")]
    Task<IReadOnlyList<DeviceStatus>> ListDevicesAsync();

    /// <summary>Renames a device of the household (admin).</summary>
    [Alias("RenameDevice"), NoSession]
    Task<DeviceStatus> RenameDeviceAsync(string adminToken, string deviceId, string displayName);

    /// <summary>Removes a device from the household (admin).</summary>
    [Alias("RemoveDevice"), NoSession]
    Task RemoveDeviceAsync(string adminToken, string deviceId);

    /// <summary>
    /// Notes a payment of this household, newest first in <see cref="RecentPaymentsAsync"/>. One-way: the list
    /// is an index for people, saved shortly after (see <c>HandoffOptions.RecentPaymentsSaveDelay</c>).
    /// </summary>
    [OneWay, Alias("NotePayment"), AuthorityOnly]
    Task NotePaymentAsync(string paymentId);

    /// <summary>Ids of the household's most recent payments, newest first.</summary>
    [Alias("RecentPayments")]
    Task<IReadOnlyList<string>> RecentPaymentsAsync(int count);
}
