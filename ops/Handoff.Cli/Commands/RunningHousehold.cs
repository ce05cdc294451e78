using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Handoff.Contracts;

namespace Handoff.Cli.Commands;

/// <summary>
/// Refuses to start a household's processes on ports another process already holds. Orleans binds its silo
/// port only after it has joined the cluster, so a second hub or demo on the same ports would first announce
/// itself, then fail with pages of stack traces, and meanwhile its phone silo gets the running household's
/// phone silo declared dead. Checked before any silo starts.
/// </summary>
internal static class RunningHousehold
{
    /// <summary>Throws one clear <see cref="ErrorCodes.Conflict"/> when any of <paramref name="ports"/> is taken on <paramref name="address"/>; <paramref name="advice"/> says what to do.</summary>
    public static void RefuseIfRunning(IPAddress address, string advice, params (string What, int Port)[] ports)
    {
        var taken = ports.Where(port => port.Port != 0 && IsTaken(address, port.Port)).ToList();
        if (taken.Count == 0)
        {
            return;
        }

        var list = string.Join(", ", taken.Select(port => string.Create(CultureInfo.InvariantCulture, $"{port.Port} {port.What}")));
        throw new HandoffException(
            ErrorCodes.Conflict,
            $"a household is already running here: something listens on {address} (ports {list}); {advice}");
    }

    // Binding is the very step that would fail later; unlike connecting, it leaves no trace in the other process's log.
    private static bool IsTaken(IPAddress address, int port)
    {
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
            return false;
        }
        catch (SocketException refused) when (refused.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        finally
        {
            listener.Stop();
        }
    }
}
