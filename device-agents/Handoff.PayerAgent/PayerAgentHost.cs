using System.Net;
using Handoff.LocalApi;
using Handoff.Sdk;
using Handoff.Silo.Hosting;
using Handoff.Silo.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Handoff.PayerAgent;

/// <summary>What a payer agent carries and where it listens.</summary>
/// <param name="PairingCodes">Codes to join the household with, by device id, for devices not yet paired.</param>
/// <param name="KeysFolder">Where the devices' keys are; the local API's token file goes beside them.</param>
public sealed record PayerAgentSettings(
    string HouseholdId,
    IReadOnlyList<PayerDevice> Devices,
    HouseholdNetwork Network,
    int HttpPort,
    IReadOnlyDictionary<string, string>? PairingCodes = null,
    string KeysFolder = DeviceKeyFile.DefaultFolder);

/// <summary>A phone or watch: a silo carrying its devices' payment programs, plus the local sheet API.</summary>
public static class PayerAgentHost
{
    /// <param name="localApiToken">This launch's token for the local API (<see cref="LocalApiToken.Issue"/>), kept across rejoins.</param>
    public static WebApplication Build(PayerAgentSettings settings, string localApiToken)
    {
        var builder = HouseholdHostDefaults.CreateBuilder("127.0.0.1", settings.HttpPort);
        builder.UseOrleans(silo => silo.UseHouseholdNetwork(settings.Network).AddHandoffPayer(settings.Devices, attemptsFolder: settings.KeysFolder)
            .AddHandoffSiloTelemetry("payer " + string.Join(",", settings.Devices.Select(device => device.Id))));
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<SiloLoss>();
        builder.Services.AddSingleton<IFatalErrorHandler>(provider => provider.GetRequiredService<SiloLoss>());
        builder.Services.AddHostedService<DeviceRegistrar>();
        builder.Services.AddHostedService<TerminalSheet>();
        var app = builder.Build();
        app.UseLocalApiGuard(IPAddress.Loopback, localApiToken);
        app.UsePageAssets(localApiToken);
        app.MapPayerApi();
        app.MapWebAuthnApi();
        app.MapSheetEvents();
        return app;
    }
}
