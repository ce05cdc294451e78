using System.CommandLine;
using Handoff.Contracts;
using Handoff.Contracts.Telemetry;
using Handoff.Sdk;
using Handoff.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Handoff.Cli.Commands;

/// <summary><c>handoff trace PAYMENT</c>: the handoff's span tree as the hub keeps it, with durations and where each span ran.</summary>
internal static class TraceCommand
{
    private static readonly TimeSpan ConnectTimeout = HandoffClientOptions.DefaultConnectTimeout;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(1500);

    public static Command Create()
    {
        var payment = new Argument<string>("payment") { Description = "Payment id (pay-…)" };
        var wait = CliValues.Duration("--wait", "How long to wait for the handoff's last spans to reach the hub (processes send them in batches)", "3s");
        var command = new Command("trace", "Show a payment's trace: its spans across the initiator, the hub and the payer's silo.") { payment, wait };
        command.SetAction((parsed, cancellation) =>
        {
            var output = new Output(parsed.GetValue(CliOptions.Json));
            return output.RunAsync(async () =>
            {
                var paymentId = parsed.GetValue(payment)!;
                using var host = await ConnectAsync(parsed, cancellation);
                // Traces are the household's: read with the administrator's session, or a device's of this machine.
                var household = DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household");
                var (adminToken, device) = CliOptions.Reader(parsed);
                var cluster = host.Services.GetRequiredService<IClusterClient>();
                var reader = adminToken is not null
                    ? new HandoffClient(cluster, household, device).AsAdmin(adminToken)
                    : new HandoffClient(cluster, household, device, CliOptions.SignerFor(parsed, device));
                Task<TraceView?> ReadAsync() => reader.CallAsync(grains => grains.GetGrain<ITraceCollectorGrain>(0).GetByPaymentAsync(paymentId));
                var waitFor = parsed.GetValue(wait) ?? TimeSpan.Zero;
                var waited = System.Diagnostics.Stopwatch.StartNew();
                var trace = await ReadAsync();
                while (!Ended(trace) && waited.Elapsed < waitFor)
                {
                    await Task.Delay(Poll, cancellation);
                    trace = await ReadAsync();
                }

                // The hub's own spans arrive first; the devices' batches follow within their export delay.
                var settled = trace?.Spans.Count ?? 0;
                while (trace is not null && waited.Elapsed < waitFor)
                {
                    await Task.Delay(Settle, cancellation);
                    trace = await ReadAsync();
                    if (trace?.Spans.Count == settled)
                    {
                        break;
                    }

                    settled = trace?.Spans.Count ?? 0;
                }

                await host.StopAsync(CancellationToken.None);
                return trace is null
                    ? output.Error(ErrorCodes.NotFound, $"no trace of payment '{paymentId}' on the hub: not sampled (Handoff:Tracing:SampleRatio), no longer kept, or the hub restarted")
                    : output.Result(trace, TraceText.Render);
            });
        });
        return command;
    }

    /// <summary>A trace is complete enough to print once the payment's terminal transition is in it.</summary>
    private static bool Ended(TraceView? trace) =>
        trace is not null && trace.Spans.Any(span =>
            span.Tag(HandoffDiagnostics.ToTag) is { } to && Enum.TryParse<PaymentState>(to, out var state) && state.IsTerminal());

    private static async Task<IHost> ConnectAsync(ParseResult parsed, CancellationToken cancellation)
    {
        var household = DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household");
        var gateway = parsed.GetValue(CliOptions.Gateway)!;
        var clustering = CliOptions.ClusteringFrom(parsed);
        var endpoint = clustering is null ? HandoffClientOptions.ParseEndpoint(gateway) : null;
        if (endpoint is not null)
        {
            await GatewayProbe.RequireListeningAsync([endpoint], cancellation);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            if (clustering is not null)
            {
                clustering(client);
            }
            else
            {
                client.UseStaticClustering(endpoint!);
            }

            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = Households.ClusterIdOf(household);
                cluster.ServiceId = Households.ServiceId;
            });
            client.UseConnectionRetryFilter(async (_, token) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), token);
                return true;
            });
        });
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token);
            return host;
        }
        catch (Exception exception) when (exception is not HandoffException)
        {
            host.Dispose();
            cancellation.ThrowIfCancellationRequested();
            throw new HandoffException(ErrorCodes.Unavailable, $"cannot reach the household gateway at {(clustering is null ? gateway : "the cluster's gateways")} within {ConnectTimeout.TotalSeconds:0}s; is the hub running?", exception);
        }
    }
}
