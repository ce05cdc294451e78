using Handoff.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Handoff.PayerAgent;

/// <summary>Registers the agent's devices with the household once the silo has joined, retrying until the hub answers.</summary>
internal sealed partial class DeviceRegistrar(
    PayerAgentSettings settings,
    IGrainFactory grains,
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
                    await grains.GetGrain<IDeviceGrain>(device.Id).RegisterAsync(device.ToRegistration(settings.HouseholdId));
                    LogRegistered(logger, device.Id, settings.HouseholdId);
                    break;
                }
                catch (HandoffException refused)
                {
                    LogRefused(logger, device.Id, refused.Message);
                    return;
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRetry(logger, device.Id, attempt, exception.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} registered with household {HouseholdId}")]
    private static partial void LogRegistered(ILogger logger, string deviceId, string householdId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Device {DeviceId} was refused by the household: {Reason}")]
    private static partial void LogRefused(ILogger logger, string deviceId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId}: hub not reachable yet (attempt {Attempt}): {Reason}")]
    private static partial void LogRetry(ILogger logger, string deviceId, int attempt, string reason);
}
