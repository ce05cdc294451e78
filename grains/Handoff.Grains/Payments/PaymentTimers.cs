using Handoff.Grains.Reminders;
using Microsoft.Extensions.Logging;

namespace Handoff.Grains.Payments;

/// <summary>
/// The clocks of one payment: its deadline, its charge retry, and its recovery, both the timer of this activation
/// and the durable reminder that drives the payment on after a crash.
/// </summary>
/// <remarks>
/// The recovery reminder is written straight into the reminder table, before the payment is saved. Orleans'
/// reminder service picks the row up when it next reads the table (at start, then every minute), so after a crash
/// the restarted hub drives the payment on. While this activation lives, its own recovery timer does the same, and
/// a payment that ends first has the row removed before the service ever loads it (by <see cref="EndedReminderRows"/>,
/// many rows per transaction): the common, short payment costs a share of one batched write
/// (<see cref="ReminderRowWriter"/>), a share of one batched delete, and no reminder-service work at all.
/// </remarks>
internal sealed partial class PaymentTimers(
    Grain grain,
    ReminderRowWriter recoveryRows,
    EndedReminderRows endedRows,
    TimeProvider time,
    TimeSpan recoveryInterval,
    ILogger logger)
{
    private const string RecoveryReminder = "recovery";

    private IGrainTimer? _deadline;
    private IGrainTimer? _chargeRetry;
    private IGrainTimer? _recovery;

    // The etag of the recovery row this activation wrote itself, so it can delete the row without asking for it.
    private string? _recoveryRowEtag;

    /// <summary>Writes the recovery row of a new payment and arms the timer that does its work meanwhile.</summary>
    public async Task StartRecoveryAsync(TimeSpan expiry, Func<Task> recover)
    {
        var first = expiry < recoveryInterval ? expiry : recoveryInterval;
        _recoveryRowEtag = await recoveryRows.UpsertAsync(new ReminderEntry
        {
            GrainId = grain.GetGrainId(),
            ReminderName = RecoveryReminder,
            StartAt = (time.GetUtcNow() + first).UtcDateTime,
            Period = recoveryInterval,
        });
        ArmRecovery(first, recover);
    }

    public void ArmRecovery(TimeSpan due, Func<Task> recover)
    {
        _recovery?.Dispose();
        _recovery = grain.RegisterGrainTimer(recover, new GrainTimerCreationOptions(due, recoveryInterval) { KeepAlive = true });
    }

    public void ArmDeadline(DateTimeOffset at, Func<Task> expire)
    {
        var due = at - time.GetUtcNow();
        _deadline?.Dispose();
        _deadline = grain.RegisterGrainTimer(
            expire,
            new GrainTimerCreationOptions(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    public void ArmChargeRetry(TimeSpan due, Func<Task> charge)
    {
        _chargeRetry?.Dispose();
        _chargeRetry = grain.RegisterGrainTimer(
            async () =>
            {
                _chargeRetry?.Dispose();
                _chargeRetry = null;
                await charge();
            },
            new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    /// <summary>The payment has ended (or was forgotten): no timer fires again and the recovery reminder goes.</summary>
    public async Task StopAsync()
    {
        _deadline?.Dispose();
        _deadline = null;
        _recovery?.Dispose();
        _recovery = null;
        if (_recoveryRowEtag is { } etag)
        {
            // Written by this activation: removing exactly that version is clean-up, done in the background.
            endedRows.Remove(grain.GetGrainId(), RecoveryReminder, etag);
            _recoveryRowEtag = null;
            return;
        }

        try
        {
            // Not written by this activation (or changed since): the reminder service may hold it, so ask it.
            if (await grain.GetReminder(RecoveryReminder) is { } recovery)
            {
                await grain.UnregisterReminder(recovery);
            }
        }
        catch (ReminderException exception)
        {
            // Already gone, or changed by another activation: the next tick finds the payment ended and retries.
            LogReminderNotRemoved(logger, exception, grain.GetPrimaryKeyString());
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: its recovery reminder could not be removed")]
    private static partial void LogReminderNotRemoved(ILogger logger, Exception exception, string paymentId);
}
