using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Handoff.Sdk;
using Microsoft.Extensions.Hosting;

namespace Handoff.InitiatorAgent;

/// <summary>Follows each payment this device started and shows its progress on the terminal.</summary>
internal sealed class PaymentTracker(HandoffClient handoff, IHostApplicationLifetime lifetime)
{
    public void Track(PaymentSnapshot payment) => _ = FollowAsync(payment.PaymentId);

    private async Task FollowAsync(string paymentId)
    {
        try
        {
            await foreach (var update in handoff.WatchAsync(paymentId, lifetime.ApplicationStopping))
            {
                Console.WriteLine(
                    $"{update.PaymentId} {update.State,-10} {DisplayText.Money(update.Info.Amount, update.Info.Currency)}"
                    + $" to {update.Info.Merchant} on {update.Payer ?? string.Join(" or ", update.Payers)}: {update.History[^1].Cause}");
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception exception)
        {
            Console.WriteLine($"{paymentId}: lost track of the payment: {exception.Message}");
        }
    }
}
