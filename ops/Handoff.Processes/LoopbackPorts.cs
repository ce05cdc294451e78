using System.Net;
using System.Net.Sockets;

namespace Handoff.Processes;

/// <summary>
/// Loopback ports for households run as processes (the tests', <c>handoff chaos</c>'s), reserved across every process
/// of the machine.
/// </summary>
/// <remarks>
/// A port from the kernel's ephemeral range (32768 and up) is not safe to hand to a process that binds it later: between
/// our probe and its bind, any outgoing connection of any process (an Orleans client, a PostgreSQL client) may be given
/// that port as its local end, and the bind fails with "Address already in use". So the ports come from below that range,
/// where the kernel never picks, and each is reserved with an exclusive lock on a file named after it: test projects and
/// chaos runs go on at once, and two of them probing the same free port at once would otherwise both take it. The locks
/// live as long as the process that took them and vanish with it, even when it is killed.
/// </remarks>
public static class LoopbackPorts
{
    private const int First = 20_000;
    private const int Last = 32_000;

    // The folder's name predates the chaos runs; it stays, so that checkouts of every version share one set of locks.
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "handoff-test-ports");
    private static readonly List<FileStream> Held = [];
    private static readonly Lock Gate = new();

    /// <summary>A port no other process of this machine holds and nothing listens on; it stays ours until the process ends.</summary>
    public static int Reserve()
    {
        Directory.CreateDirectory(Folder);
        var start = Random.Shared.Next(First, Last + 1);
        lock (Gate)
        {
            for (var offset = 0; offset <= Last - First; offset++)
            {
                var port = First + ((start - First + offset) % (Last - First + 1));
                if (TryLock(port) is { } held)
                {
                    if (IsFree(port))
                    {
                        Held.Add(held);
                        return port;
                    }

                    held.Dispose();
                }
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}: every one is taken or reserved");
    }

    private static FileStream? TryLock(int port)
    {
        try
        {
            // FileShare.None is an exclusive advisory lock (flock) on Unix: a second holder, in this process or another, fails.
            return new FileStream(Path.Combine(Folder, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
