using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Handoff.Testing;

/// <summary>Runs the real <c>handoff</c> program: one-shot commands and long-running household processes.</summary>
/// <remarks>
/// Every process runs in a scratch folder with <c>HANDOFF_DATA</c> pointing into it, so that nothing of the developer's
/// own household (a <c>.handoff/</c> in the checkout, a <c>HANDOFF_*</c> variable) reaches a test; a test household
/// passes its own <c>HANDOFF_DATA</c> where its commands should find its hub's admin token.
/// </remarks>
public static partial class CliRunner
{
    public static string DllPath { get; } = Path.GetFullPath(Metadata("HandoffCli"));

    public static string RepositoryRoot { get; } = Path.GetFullPath(Metadata("RepositoryRoot"));

    /// <summary>The folder every process of this test run works in.</summary>
    public static string WorkDirectory { get; } = Directory.CreateTempSubdirectory("handoff-tests-").FullName;

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        StartInfo(args, environment?.ToDictionary(variable => variable.Key, string? (variable) => variable.Value), folder: null);

    /// <summary>
    /// Starts in <paramref name="folder"/> (null: the scratch folder, with <c>HANDOFF_DATA</c> in it); a variable
    /// given as null is left unset.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment, string? folder)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder ?? WorkDirectory,
        };
        foreach (var inherited in start.Environment.Keys.Where(key => key.StartsWith("HANDOFF_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(inherited);
        }

        if (folder is null)
        {
            start.Environment["HANDOFF_DATA"] = Path.Combine(WorkDirectory, ".handoff");
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>Runs one command to its end (bounded) and returns its exit code and output.</summary>
    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>Runs one command, with extra environment variables, to its end (bounded).</summary>
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunAsync(StartInfo(args, environment), $"'handoff {string.Join(' ', args)}'");

    /// <summary>Runs one command in <paramref name="folder"/>, with no <c>HANDOFF_*</c> variable but those given.</summary>
    public static Task<CliResult> RunInAsync(string folder, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunAsync(StartInfo(args, environment, folder), $"'handoff {string.Join(' ', args)}' in {folder}");

    private static Task<CliResult> RunAsync(ProcessStartInfo start, string what) => BoundedProcess.RunAsync(start, TimeSpan.FromSeconds(60), what);

    /// <summary>Sends a signal to a process (SIGTERM: stop cleanly).</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Signal(int pid, int signal);

    private static string Metadata(string key) => typeof(CliRunner).Assembly
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

    private CliProcess(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        Name = name;
        _process = new Process { StartInfo = CliRunner.StartInfo(args, environment), EnableRaisingEvents = true };
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

    public int Pid => _process.Id;

    /// <summary>Starts <c>handoff args…</c> and waits (bounded) for its "… ready" line.</summary>
    public static Task<CliProcess> StartAsync(string name, params string[] args) => StartAsync(name, null, args);

    /// <summary>Starts <c>handoff args…</c> with extra environment variables and waits for its "… ready" line.</summary>
    public static async Task<CliProcess> StartAsync(string name, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var process = new CliProcess(name, args, environment);
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

    /// <summary>Waits (bounded) until the process prints a line containing <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) => BoundedWait.UntilAsync(
        () => _process.HasExited
            ? throw new InvalidOperationException($"{Name} exited while waiting for '{text}':\n{Output}")
            : Task.FromResult(Output.Contains(text, StringComparison.Ordinal)),
        $"{Name} to print '{text}'",
        timeout,
        () => Output);

    /// <summary>Waits (bounded) for the process to end on its own; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Stops the process the way a person quits the app: SIGTERM, then (bounded) waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        CliRunner.Signal(_process.Id, SigTerm);
        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGKILL: the process gets no chance to save or say goodbye.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
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
