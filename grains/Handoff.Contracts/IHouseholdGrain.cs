namespace Handoff.Contracts;

/// <summary>A household (key: household id): its device roster and recent payments.</summary>
[Alias("handoff.IHouseholdGrain")]
public interface IHouseholdGrain : IGrainWithStringKey
{
    /// <summary>Adds a registered device to the roster.</summary>
    [Alias("AddDevice")]
    Task AddDeviceAsync(string deviceId);

    /// <summary>Every device of the household, with presence.</summary>
    [Alias("ListDevices")]
    Task<IReadOnlyList<DeviceStatus>> ListDevicesAsync();

    /// <summary>Notes a payment of this household, newest first in <see cref="RecentPaymentsAsync"/>.</summary>
    [Alias("NotePayment")]
    Task NotePaymentAsync(string paymentId);

    /// <summary>Ids of the household's most recent payments, newest first.</summary>
    [Alias("RecentPayments")]
    Task<IReadOnlyList<string>> RecentPaymentsAsync(int count);
}
