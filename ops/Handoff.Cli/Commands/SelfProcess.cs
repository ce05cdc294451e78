using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Handoff.Cli.Commands;

/// <summary>Starting this very program again as a child (<c>handoff up</c>'s and <c>handoff chaos</c>'s processes), and signalling it.</summary>
internal static partial class SelfProcess
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>A start of <c>handoff args…</c>: as <c>dotnet handoff.dll …</c> when this process was started that way, else as the apphost itself.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var processPath = Environment.ProcessPath!;
        var start = Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? new ProcessStartInfo(processPath) { ArgumentList = { typeof(SelfProcess).Assembly.Location } }
            : new ProcessStartInfo(processPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.UseShellExecute = false;
        return start;
    }

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; false when it is gone.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
