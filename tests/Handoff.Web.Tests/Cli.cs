using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Handoff.Web.Tests;

/// <summary>Runs the real <c>handoff</c> program: one-shot commands and long-running household processes.</summary>
/// <remarks>Adapted from Handoff.Cli.Tests; here every process runs in a scratch folder, where the hub keeps its store.</remarks>
public static partial class Cli
{
    public static string DllPath { get; } = Path.GetFullPath(Metadata("HandoffCli"));

    public static string RepositoryRoot { get; } = Path.GetFullPath(Metadata("RepositoryRoot"));

    /// <summary>The folder every process of this test run works in; the hub's store lands here, not in the repository.</summary>
    public static string WorkDirectory { get; } = Directory.CreateTempSubdirectory("handoff-web-tests-").FullName;

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDirectory,
        };
        start.Environment["HANDOFF_DATA"] = Path.Combine(WorkDirectory, ".handoff");
        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>Runs one command to its end (bounded) and returns its exit code and output.</summary>
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'handoff {string.Join(' ', args)}' did not finish within 60 s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// A free loopback port below the kernel's ephemeral range (32768 and up). Other suites take theirs from that
    /// range and restart killed processes on the same ports; all households share the Orleans cluster id, so a silo
    /// of ours on a port another suite's household still knows would be probed, or declared dead, by that household.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        throw new InvalidOperationException("no free loopback port between 20000 and 32000 after 100 tries");
    }

    /// <summary>Sends a signal to a process (SIGTERM: stop cleanly).</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Signal(int pid, int signal);

    private static string Metadata(string key) => typeof(Cli).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == key).Value!;
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>A long-running <c>handoff</c> process (hub or agent) whose output is kept for failure messages.</summary>
public sealed class CliProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliProcess(string name, IEnumerable<string> args)
    {
        Name = name;
        _process = new Process { StartInfo = Cli.StartInfo(args), EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, line) => Record(line.Data);
        _process.ErrorDataReceived += (_, line) => Record(line.Data);
        _process.Exited += (_, _) =>
        {
            Record($"[{Name} exited with code {_process.ExitCode} at {TimeProvider.System.GetLocalNow():HH:mm:ss.fff}]");
            _ready.TrySetException(new InvalidOperationException($"{Name} exited early:\n{Output}"));
        };
    }

    public string Name { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>handoff args…</c> and waits (bounded) for its "… ready" line.</summary>
    public static async Task<CliProcess> StartAsync(string name, params string[] args)
    {
        var process = new CliProcess(name, args);
        process._process.Start();
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        try
        {
            await process._ready.Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            await process.DisposeAsync();
            throw new TimeoutException($"{name} did not report ready within 90 s:\n{process.Output}");
        }

        return process;
    }

    /// <summary>Stops the process the way a person quits the app: SIGTERM, then (bounded) waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        Cli.Signal(_process.Id, SigTerm);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not stop within 30 s of SIGTERM:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains(" ready: ", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}
