using System.Net;
using Handoff.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Handoff.Storage.Tests;

/// <summary>Silos and clients in this process that form one cluster through PostgreSQL, over real TCP on loopback.</summary>
public sealed class PostgresCluster(string connectionString) : IAsyncDisposable
{
    private readonly Dictionary<int, IHost> _silos = [];
    private readonly Dictionary<int, (int Silo, int Gateway)> _ports = [];
    private readonly List<IHost> _clients = [];

    /// <summary>The reminder period the silos accept; Orleans' default minimum is a minute.</summary>
    public static readonly TimeSpan MinimumReminderPeriod = TimeSpan.FromMilliseconds(500);

    public string ConnectionString { get; } = connectionString;

    public string ClusterId { get; } = $"cluster-{Guid.NewGuid():N}";

    public string ServiceId { get; } = $"service-{Guid.NewGuid():N}";

    public IReadOnlyDictionary<int, IHost> Silos => _silos;

    /// <summary>Starts silo <paramref name="index"/>; a restarted silo keeps its ports.</summary>
    public async Task<IHost> StartSiloAsync(int index)
    {
        if (!_ports.TryGetValue(index, out var ports))
        {
            ports = _ports[index] = (LoopbackPorts.Reserve(), LoopbackPorts.Reserve());
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = $"silo-{index}" });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = ClusterId;
                options.ServiceId = ServiceId;
            });
            silo.Configure<SiloOptions>(options => options.SiloName = $"silo-{index}");
            silo.ConfigureEndpoints(IPAddress.Loopback, ports.Silo, ports.Gateway, listenOnAnyHostAddress: false);
            silo.UseHandoffPostgres(ConnectionString);
            silo.Configure<ReminderOptions>(options => options.MinimumReminderPeriod = MinimumReminderPeriod);
        });

        var host = builder.Build();
        await host.StartAsync();
        _silos[index] = host;
        return host;
    }

    /// <summary>Stops silo <paramref name="index"/> gracefully, so it leaves the membership table as Dead.</summary>
    public async Task StopSiloAsync(int index)
    {
        var host = _silos[index];
        _silos.Remove(index);
        await host.StopAsync();
        host.Dispose();
    }

    /// <summary>A client that finds the gateways in the membership table.</summary>
    public async Task<IClusterClient> ConnectClientAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "client" });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = ClusterId;
                options.ServiceId = ServiceId;
            });
            client.UseHandoffPostgresClustering(ConnectionString);
        });

        var host = builder.Build();
        await host.StartAsync();
        _clients.Add(host);
        return host.Services.GetRequiredService<IClusterClient>();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.StopAsync();
            client.Dispose();
        }

        foreach (var index in _silos.Keys.ToList())
        {
            await StopSiloAsync(index);
        }
    }
}
