using Handoff.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Handoff.PayerAgent;

/// <summary>
/// Once the silo has joined, makes sure each carried device is paired with the household: with a
/// pairing code when it is not (or no longer with this key), retrying while the hub is not reachable.
/// </summary>
internal sealed partial class DeviceRegistrar(
    PayerAgentSettings settings,
    IGrainFactory grains,
    Contracts.Security.DeviceSessions sessions,
    TimeProvider time,
    ILogger<DeviceRegistrar> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var device in settings.Devices)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await EnsurePairedAsync(device);
                    break;
                }
                catch (HandoffException refused)
                {
                    LogRefused(logger, device.Id, refused.Message);
                    Console.Error.WriteLine($"payer: device {device.Id} refused: {refused.Message}");
                    break;
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRetry(logger, device.Id, attempt, exception.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
            }
        }
    }

    private async Task EnsurePairedAsync(Silo.Hosting.PayerDevice device)
    {
        try
        {
            // Opening a session proves this key is the one the household has for this device.
            await sessions.TokenAsync(device.Id);
            LogPaired(logger, device.Id, settings.HouseholdId);
            return;
        }
        catch (ForbiddenException)
        {
            // Not paired, removed, or paired with another key: a pairing code sets it right.
        }

        if (settings.PairingCodes?.GetValueOrDefault(device.Id) is not { } code)
        {
            throw new ForbiddenException($"not paired with household '{settings.HouseholdId}': get a code on the hub (handoff pair) and start with --pair CODE");
        }

        await grains.GetGrain<IHouseholdGrain>(settings.HouseholdId).PairDeviceAsync(code, device.ToRegistration(settings.HouseholdId), device.PublicKey);
        LogPairedNow(logger, device.Id, settings.HouseholdId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} is paired with household {HouseholdId}")]
    private static partial void LogPaired(ILogger logger, string deviceId, string householdId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} paired with household {HouseholdId}")]
    private static partial void LogPairedNow(ILogger logger, string deviceId, string householdId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Device {DeviceId} was refused by the household: {Reason}")]
    private static partial void LogRefused(ILogger logger, string deviceId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId}: hub not reachable yet (attempt {Attempt}): {Reason}")]
    private static partial void LogRetry(ILogger logger, string deviceId, int attempt, string reason);
}
