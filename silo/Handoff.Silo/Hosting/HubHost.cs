using Handoff.Grains;
using Handoff.LocalApi;
using Handoff.Silo.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Handoff.Silo.Hosting;

/// <summary>Where a hub listens.</summary>
public sealed record HubSettings(HouseholdNetwork Network, int HttpPort, HubStorage Storage);

/// <summary>The household's always-on node: the hub silo with its durable grains.</summary>
public static class HubHost
{
    public static WebApplication Build(HubSettings settings)
    {
        var builder = HouseholdHostDefaults.CreateBuilder(settings.Network.Address.ToString(), settings.HttpPort);

        // Admin operations need the hub's token: configured (a cluster's hubs share one) or kept in the data folder.
        var adminToken = builder.Configuration[$"{HandoffOptions.Section}:{nameof(HandoffOptions.AdminToken)}"]
            ?? AdminTokenFile.LoadOrCreate(settings.Storage.DataDirectory ?? HubStorage.DefaultDataDirectory);
        builder.Services.Configure<HandoffOptions>(options => options.AdminToken = adminToken);
        builder.UseOrleans(silo => silo.UseHouseholdNetwork(settings.Network).AddHandoffHub(settings.Storage).AddHandoffSiloTelemetry("hub", hub: true));
        var app = builder.Build();

        // The hub's pages, metrics and dashboard only read: no token, so every state-changing request is refused.
        app.UseLocalApiGuard(settings.Network.Address, token: null);
        app.MapGet("/health", () => Results.Ok(new { status = "ok", role = "hub" }));
        app.MapHubPage();
        app.MapHubTelemetry();
        return app;
    }
}
