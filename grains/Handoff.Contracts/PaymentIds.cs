using System.Security.Cryptography;
using System.Text;

namespace Handoff.Contracts;

/// <summary>
/// Payment ids derive from the initiator and its order key, so the same order always reaches the
/// same <see cref="IPaymentRequestGrain"/>: that grain is then the one place idempotency is decided.
/// </summary>
public static class PaymentIds
{
    public static string For(string householdId, string initiatorDeviceId, string orderKey)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{householdId}\n{initiatorDeviceId}\n{orderKey}"));
        return "pay-" + Convert.ToHexStringLower(bytes, 0, 10);
    }
}
