using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Sdk;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Handoff.InitiatorAgent;

/// <summary>Registers the device, then keeps it marked present in the household.</summary>
internal sealed partial class Presence(
    InitiatorAgentSettings settings,
    HandoffClient handoff,
    KeyRingSigner keys,
    InitiatorStanding standing,
    TimeProvider time,
    ILogger<Presence> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var registered = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!registered)
                {
                    await EnsurePairedAsync();
                    registered = true;
                    LogRegistered(logger, settings.DeviceId, settings.HouseholdId);
                    standing.MarkRegistered();
                }
                else
                {
                    await handoff.HeartbeatAsync();
                }
            }
            catch (HandoffException refused)
            {
                // The runner reports it as the agent's one error line and stops; logging it too would say it twice.
                standing.MarkRefused(refused);
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogUnreachable(logger, exception.Message);
            }

            await Task.Delay(registered ? Interval : TimeSpan.FromSeconds(1), time, stoppingToken)
                .ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private async Task EnsurePairedAsync()
    {
        var publicKey = keys.PublicKeyOf(settings.DeviceId);
        try
        {
            // Opening a session proves this key is the one the household has for this device.
            await handoff.ListDevicesAsync();
            return;
        }
        catch (ForbiddenException)
        {
            // Not paired, removed, or paired with another key: a pairing code sets it right.
        }

        if (settings.PairingCode is not { } code)
        {
            throw new ForbiddenException($"device '{settings.DeviceId}' is not paired with household '{settings.HouseholdId}': get a code on the hub (handoff pair) and start with --pair CODE");
        }

        await handoff.PairAsync(code, settings.DisplayName, settings.Kind, DeviceRole.Initiator, publicKey);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} registered with household {HouseholdId}")]
    private static partial void LogRegistered(ILogger logger, string deviceId, string householdId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Household not reachable: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string reason);
}
