using Handoff.Sdk;
using Handoff.Telemetry;

namespace Handoff.Cli.Commands;

/// <summary>The CLI's share of the household's telemetry: a handoff it starts is the root of the handoff's trace.</summary>
internal static class CliTelemetry
{
    /// <summary>Makes the client carry trace context and export its spans, keeping the clustering the options chose.</summary>
    public static void Attach(HandoffClientOptions options)
    {
        var process = $"cli {options.DeviceId}";
        var configure = options.ConfigureClient;
        options.ConfigureClient = client =>
        {
            configure?.Invoke(client);
            client.AddActivityPropagation();
            client.Services.AddHandoffTelemetry(process);
        };
    }
}
