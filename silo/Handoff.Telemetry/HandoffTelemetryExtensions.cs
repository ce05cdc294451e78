using Handoff.Contracts.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Handoff.Telemetry;

/// <summary>The one OpenTelemetry setup of the hub, the agents and the CLI.</summary>
public static class HandoffTelemetryExtensions
{
    /// <summary>The ActivitySources every process listens to: Orleans' grain calls and the project's own steps.</summary>
    public static IReadOnlyList<string> ActivitySources { get; } =
        [HandoffDiagnostics.Name, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>The Meters every process reads: Orleans' and the project's.</summary>
    public static IReadOnlyList<string> Meters { get; } = ["Microsoft.Orleans", HandoffDiagnostics.Name];

    /// <summary>Environment variable that turns OTLP export on (the OpenTelemetry standard one).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Traces and metrics for the process named <paramref name="process"/> (e.g. <c>hub</c>, <c>payer phone-1</c>):
    /// Orleans' and the project's sources and meters, spans batched to the hub's collector, OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Grain calls carry the trace only with Orleans'
    /// <c>AddActivityPropagation()</c> on the silo or client builder as well.
    /// </summary>
    /// <param name="configuration">Where <c>Handoff:Tracing</c> is read; the environment when null.</param>
    /// <param name="metrics">More metric readers, e.g. the hub's Prometheus endpoint.</param>
    public static IServiceCollection AddHandoffTelemetry(
        this IServiceCollection services,
        string process,
        IConfiguration? configuration = null,
        Action<MeterProviderBuilder>? metrics = null)
    {
        configuration ??= new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var tracing = configuration.GetSection(HandoffTracingOptions.Section).Get<HandoffTracingOptions>() ?? new HandoffTracingOptions();
        if (tracing.Problem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(process))
            .WithTracing(traces =>
            {
                traces.AddSource([.. ActivitySources]);
                traces.SetSampler(new HandoffSampler(tracing.SampleRatio));
                if (tracing.ExportToHub)
                {
                    traces.AddProcessor(provider => new BatchActivityExportProcessor(
                        new HubSpanExporter(provider, process),
                        maxQueueSize: tracing.MaxQueuedSpans,
                        scheduledDelayMilliseconds: (int)tracing.ExportDelay.TotalMilliseconds,
                        exporterTimeoutMilliseconds: 10_000,
                        maxExportBatchSize: 512));
                }

                if (otlp)
                {
                    traces.AddOtlpExporter();
                }
            })
            .WithMetrics(meters =>
            {
                meters.AddMeter([.. Meters]);
                if (otlp)
                {
                    meters.AddOtlpExporter();
                }

                metrics?.Invoke(meters);
            });

        // Registered after the Orleans host: hosts stop in reverse order, so the last spans leave while still connected.
        services.AddHostedService<TelemetryFlush>();
        return services;
    }

    /// <summary>Sends the spans still queued when the process stops, while its cluster connection is still up.</summary>
    private sealed class TelemetryFlush(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            services.GetService<TracerProvider>()?.ForceFlush(5_000);
            return Task.CompletedTask;
        }
    }
}
