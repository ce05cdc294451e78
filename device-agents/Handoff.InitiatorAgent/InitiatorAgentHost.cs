using System.Net;
using Handoff.Contracts;
using Handoff.Contracts.Hosting;
using Handoff.Contracts.Security;
using Handoff.LocalApi;
using Handoff.Sdk;
using Handoff.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Handoff.InitiatorAgent;

/// <summary>Who the initiator device is and where the household's gateway is.</summary>
public sealed record InitiatorAgentSettings(
    string HouseholdId,
    string DeviceId,
    string DisplayName,
    DeviceKind Kind,
    IReadOnlyList<string> Gateways,
    int HttpPort,
    Action<IClientBuilder>? Clustering = null,
    string KeysFolder = DeviceKeyFile.DefaultFolder,
    string? PairingCode = null,
    System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate = null);

/// <summary>A TV, tablet or car: an Orleans client with the SDK, its presence and a local checkout API.</summary>
public static class InitiatorAgentHost
{
    public static WebApplication Build(InitiatorAgentSettings settings)
    {
        var gateways = settings.Clustering is null ? settings.Gateways.Select(HandoffClientOptions.ParseEndpoint).ToArray() : [];
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls($"http://127.0.0.1:{settings.HttpPort}");
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
        builder.UseOrleansClient(client =>
        {
            client.Services.AddGrainInterfaceTypeCache();
            if (settings.Clustering is { } clustering)
            {
                clustering(client);
            }
            else
            {
                client.UseStaticClustering(gateways);
            }

            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = Households.ClusterIdOf(settings.HouseholdId);
                cluster.ServiceId = Households.ServiceId;
            });
            client.AddActivityPropagation();
            client.Services.AddHandoffTelemetry($"initiator {settings.DeviceId}", client.Configuration);
            HouseholdTls.Apply(client, settings.Certificate);
            client.UseConnectionRetryFilter(async (_, token) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), token);
                return true;
            });
        });
        builder.Services.AddSingleton(settings);
        var keys = new KeyRingSigner();
        keys.Add(settings.DeviceId, DeviceKeyFile.Exists(settings.KeysFolder, settings.DeviceId)
            ? DeviceKeyFile.Load(settings.KeysFolder, settings.DeviceId)
            : DeviceKeyFile.Create(settings.KeysFolder, settings.DeviceId));
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton(provider =>
            new HandoffClient(provider.GetRequiredService<IClusterClient>(), settings.HouseholdId, settings.DeviceId, keys));
        builder.Services.AddSingleton<PaymentTracker>();
        builder.Services.AddSingleton<InitiatorStanding>();
        builder.Services.AddHostedService<Presence>();
        var token = LocalApiToken.Issue(settings.KeysFolder, LocalApiToken.InitiatorAgent, settings.HttpPort);
        var app = builder.Build();
        app.UseLocalApiGuard(IPAddress.Loopback, token);
        app.UsePageAssets(token);
        app.MapInitiatorApi();
        app.MapPaymentEvents();
        return app;
    }
}
