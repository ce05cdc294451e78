using Handoff.Grains.Telemetry;
using Handoff.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Handoff.Silo.Telemetry;

/// <summary>The hub's standard exits: traces to its own collector, <c>/metrics</c> for Prometheus, the Orleans dashboard, trace pages.</summary>
public static class HubTelemetry
{
    public const string DashboardPath = "/dashboard";
    public const string MetricsPath = "/metrics";

    /// <summary>Tracing and metrics of a household silo named <paramref name="process"/>; trace context flows through its grain calls.</summary>
    public static ISiloBuilder AddHandoffSiloTelemetry(this ISiloBuilder silo, string process, bool hub = false)
    {
        silo.AddActivityPropagation();
        if (hub)
        {
            silo.AddDashboard();
            silo.Services.AddHandoffTelemetry(process, silo.Configuration, metrics => metrics.AddPrometheusExporter());
        }
        else
        {
            // The collector keeps its store in memory on the hub: a device's silo never hosts it.
            silo.Services.Configure<GrainTypeOptions>(options => options.Classes.Remove(typeof(TraceCollectorGrain)));
            silo.Services.AddHandoffTelemetry(process, silo.Configuration);
        }

        return silo;
    }

    /// <summary>Maps <c>/metrics</c>, the dashboard at <c>/dashboard</c> and the trace pages at <c>/traces</c>.</summary>
    public static WebApplication MapHubTelemetry(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        app.MapOrleansDashboard(DashboardPath);
        app.MapTracePages();
        return app;
    }
}
