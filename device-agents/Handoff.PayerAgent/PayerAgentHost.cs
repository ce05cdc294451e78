using Handoff.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Handoff.PayerAgent;

/// <summary>What a payer agent carries and where it listens.</summary>
public sealed record PayerAgentSettings(string HouseholdId, IReadOnlyList<PayerDevice> Devices, HouseholdNetwork Network, int HttpPort);

/// <summary>A phone or watch: a silo carrying its devices' payment programs, plus the local sheet API.</summary>
public static class PayerAgentHost
{
    public static WebApplication Build(PayerAgentSettings settings)
    {
        var builder = HouseholdHostDefaults.CreateBuilder("127.0.0.1", settings.HttpPort);
        builder.UseOrleans(silo => silo.UseHouseholdNetwork(settings.Network).AddHandoffPayer(settings.Devices));
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<SiloLoss>();
        builder.Services.AddSingleton<IFatalErrorHandler>(provider => provider.GetRequiredService<SiloLoss>());
        builder.Services.AddHostedService<DeviceRegistrar>();
        builder.Services.AddHostedService<TerminalSheet>();
        var app = builder.Build();
        app.UsePageAssets();
        app.MapPayerApi();
        app.MapSheetEvents();
        return app;
    }
}
