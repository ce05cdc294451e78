using System.Security.Cryptography;
using Handoff.Contracts;

namespace Handoff.Grains.Payments;

/// <summary>
/// How a payment comes to be: its request checked and decided by the household (who asked, which rule applies, whom
/// to offer it), its recovery reminder written, then its record inserted, once. The record is not read first: the
/// store accepts the insert only when no record exists, and a request that finds one is answered from it.
/// </summary>
internal sealed class PaymentCreation(PaymentGuard guard, PaymentTimers timers, LazyState<PaymentRecord> record, HandoffOptions options, TimeProvider time)
{
    /// <summary>
    /// Creates the payment of <paramref name="input"/>; false when one already exists under its id (a retry, or one this
    /// activation had not read): <paramref name="load"/> has read it, and the caller answers from it.
    /// </summary>
    public async Task<bool> TryCreateAsync(PaymentRequestInput input, Func<ValueTask> load, Func<Task> recover)
    {
        DeviceStatus initiator;
        RuleDecision decision;
        try
        {
            (initiator, decision) = await guard.AcceptNewAsync(input);
        }
        catch (HandoffException)
        {
            // Not read yet: a retry of an existing payment is answered from its record, as it was the first time.
            await load();
            if (!record.State.Exists)
            {
                throw;
            }

            return false;
        }

        // A guardian has longer to decide than a payer to verify: the deadline is in the record, the reminder drives it.
        var expiry = decision.Rule is { NeedsGuardian: true } ? options.GuardianExpiry : input.ExpiresIn ?? options.DefaultExpiry;
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var created = PaymentLifecycle.Start(input, decision, initiator.DisplayName, time.GetUtcNow(), expiry, nonce, initiator.PublicKey);

        // The recovery reminder exists before the payment does: whatever crashes next, the payment gets driven to an end.
        await timers.StartRecoveryAsync(expiry, recover);
        if (!record.Loaded && await record.TryCreateAsync(created))
        {
            return true;
        }

        // A record is there (a retry this activation had not read) or was cleared (the payer was offline).
        await load();
        if (record.State.Exists)
        {
            if (record.State.State.IsTerminal())
            {
                // The row just written belongs to nothing that can still move.
                await timers.StopAsync();
            }

            return false;
        }

        record.Replace(created);
        await record.WriteAsync();
        return true;
    }
}
