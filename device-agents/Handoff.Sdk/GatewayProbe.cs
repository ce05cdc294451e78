using System.Net;
using System.Net.Sockets;
using Handoff.Contracts;

namespace Handoff.Sdk;

/// <summary>
/// A quick TCP connect to the gateways before Orleans' client starts: Orleans retries a refused connection
/// until its connect timeout, so a stopped hub would cost the caller that whole timeout and end in a vague
/// message. A refused connection on every gateway is reported at once, by address.
/// </summary>
public static class GatewayProbe
{
    /// <summary>How long one connect may take before the probe leaves the verdict to Orleans (a slow network is not a stopped hub).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Returns when a gateway accepts (or does not answer in time); throws <see cref="ErrorCodes.Unavailable"/> when every one refuses.</summary>
    public static async Task RequireListeningAsync(IReadOnlyList<IPEndPoint> gateways, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        var refused = new List<IPEndPoint>();
        foreach (var gateway in gateways)
        {
            using var socket = new Socket(gateway.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                await socket.ConnectAsync(gateway, timeout.Token);
                return;
            }
            catch (SocketException refusal) when (refusal.SocketErrorCode == SocketError.ConnectionRefused)
            {
                refused.Add(gateway);
            }
            catch (SocketException)
            {
                // Unreachable network, no route…: Orleans tries and reports with its own detail.
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }

        if (refused.Count > 0)
        {
            throw new HandoffException(ErrorCodes.Unavailable, $"hub not running: nothing listens at {string.Join(", ", refused)}");
        }
    }
}
