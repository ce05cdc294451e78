using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Handoff.Silo.Hosting;

/// <summary>What every household process shares: quiet logs, loopback HTTP.</summary>
public static class HouseholdHostDefaults
{
    /// <summary>A web host bound to <c>http://{address}:{port}</c> with compact console logging.</summary>
    public static WebApplicationBuilder CreateBuilder(string address, int httpPort)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls($"http://{address}:{httpPort}");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Handoff", LogLevel.Information);

        // Start-up advice about GC mode and the watchdog's first tick are noise on a small household device.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        return builder;
    }
}
