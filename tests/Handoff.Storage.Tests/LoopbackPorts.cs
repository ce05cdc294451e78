using System.Net;
using System.Net.Sockets;

namespace Handoff.Storage.Tests;

/// <summary>Free TCP ports on the loopback interface, as the operating system hands them out.</summary>
internal static class LoopbackPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
