using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
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
        builder.UseOrleans(silo => silo.UseHouseholdNetwork(settings.Network).AddHandoffHub(settings.Storage));
        var app = builder.Build();
        app.MapGet("/health", () => Results.Ok(new { status = "ok", role = "hub" }));
        app.MapHubPage();
        return app;
    }
}
