using System.Diagnostics;
using System.Globalization;
using Handoff.Cli.Commands;

namespace Handoff.Cli.Chaos;

/// <summary>
/// One process of a chaos household (a hub, a payer agent, the TV's initiator agent), started as a child of this
/// one, which the scheduler kills, freezes, thaws and starts again. Its output goes to a log file of its own.
/// </summary>
internal sealed class ChaosProcess(string name, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string logFile, TimeProvider time)
    : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);
    private readonly Lock _gate = new();
    private readonly StreamWriter _log = new(logFile, append: true) { AutoFlush = true };
    private Process? _process;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _frozen;
    private bool _closed;
    private bool _disposed;
    private int _starts;

    public string Name => name;

    /// <summary>Running and not frozen (it may still be joining the household).</summary>
    public bool Running
    {
        get
        {
            lock (_gate)
            {
                return _process is { HasExited: false } && !_frozen;
            }
        }
    }

    /// <summary>Not running at all: never started, killed, stopped, or exited by itself.</summary>
    public bool Down
    {
        get
        {
            lock (_gate)
            {
                return _process is null || _process.HasExited;
            }
        }
    }

    public bool Frozen
    {
        get
        {
            lock (_gate)
            {
                return _frozen;
            }
        }
    }

    /// <summary>Starts the process (extra arguments only this once, such as a pairing code) and waits, bounded, for its "ready" line.</summary>
    public async Task StartAsync(IReadOnlyList<string> once, CancellationToken cancellation)
    {
        Process process;
        lock (_gate)
        {
            // A run being torn down starts nothing more: a process started now would outlive it.
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_process is { HasExited: false })
            {
                throw new InvalidOperationException($"{name} is already running");
            }

            _process?.Dispose();
            _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = SelfProcess.StartInfo([.. args, .. once]);

            // Only what the run gives: a HANDOFF_* variable of the person's own shell must not reach the household.
            foreach (var inherited in start.Environment.Keys.Where(key => key.StartsWith("HANDOFF_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(inherited);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            process = new Process { StartInfo = start, EnableRaisingEvents = true };
            var ready = _ready;
            process.OutputDataReceived += (_, line) => Record(line.Data, ready);
            process.ErrorDataReceived += (_, line) => Record(line.Data, ready);
            process.Exited += (_, _) => ready.TrySetException(new ChaosException($"{name} exited before it was ready (see {logFile})"));
            _starts++;
            Write($"--- start {_starts} at {Stamp()} ---");
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            _frozen = false;
        }

        try
        {
            await _ready.Task.WaitAsync(ReadyWithin, time, cancellation);
        }
        catch (TimeoutException)
        {
            throw new ChaosException($"{name} did not say it was ready within {ReadyWithin.TotalSeconds:0} s (see {logFile})");
        }
    }

    /// <summary>SIGKILL: the process gets no chance to save or say goodbye. A frozen one dies as well.</summary>
    public async Task KillAsync()
    {
        var process = Current();
        if (process is null || process.HasExited)
        {
            return;
        }

        Write($"--- kill -9 at {Stamp()} ---");
        SelfProcess.Signal(process.Id, SelfProcess.SigKill);
        await process.WaitForExitAsync();
        lock (_gate)
        {
            _frozen = false;
        }
    }

    /// <summary>SIGTERM, the way the device is switched off cleanly; SIGKILL if it has not stopped within the grace.</summary>
    public async Task StopAsync()
    {
        var process = Current();
        if (process is null || process.HasExited)
        {
            return;
        }

        Write($"--- SIGTERM at {Stamp()} ---");
        Thaw();
        SelfProcess.Signal(process.Id, SelfProcess.SigTerm);
        try
        {
            await process.WaitForExitAsync().WaitAsync(StopGrace, time);
        }
        catch (TimeoutException)
        {
            Write($"--- still running {StopGrace.TotalSeconds:0} s after SIGTERM: kill -9 ---");
            await KillAsync();
        }
    }

    /// <summary>SIGSTOP: the process stops in the middle of whatever it does, its sockets open.</summary>
    public void Freeze()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false } process && !_frozen)
            {
                Write($"--- SIGSTOP at {Stamp()} ---");
                SelfProcess.Signal(process.Id, SelfProcess.SigStop);
                _frozen = true;
            }
        }
    }

    /// <summary>SIGCONT: a frozen process carries on where it stopped.</summary>
    public void Thaw()
    {
        lock (_gate)
        {
            if (_frozen && _process is { HasExited: false } process)
            {
                SelfProcess.Signal(process.Id, SelfProcess.SigCont);
                Write($"--- SIGCONT at {Stamp()} ---");
            }

            _frozen = false;
        }
    }

    /// <summary>Thaws and kills whatever runs: nothing of the household outlives the run, and nothing stays stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        Thaw();
        await KillAsync();
        lock (_gate)
        {
            _process?.Dispose();
            _process = null;
        }

        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
    }

    private Process? Current()
    {
        lock (_gate)
        {
            return _process;
        }
    }

    private void Record(string? line, TaskCompletionSource ready)
    {
        if (line is null)
        {
            return;
        }

        Write(line);
        if (line.Contains(" ready: ", StringComparison.Ordinal))
        {
            ready.TrySetResult();
        }
    }

    private void Write(string line)
    {
        lock (_log)
        {
            // A line may still come from a process being killed as the run closes its logs.
            if (!_closed)
            {
                _log.WriteLine(line);
            }
        }
    }

    private string Stamp() => time.GetUtcNow().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}

/// <summary>A chaos run could not do what it set out to (start its household, reach its store): not a verdict on the payments.</summary>
internal sealed class ChaosException(string message) : Contracts.HandoffException("chaos_failed", message);
