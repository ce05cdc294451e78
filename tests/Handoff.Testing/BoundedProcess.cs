using System.Diagnostics;
using System.Text;

namespace Handoff.Testing;

/// <summary>Runs a program to its end within a bound, keeping its output: the one way the tests run a short-lived process.</summary>
public static class BoundedProcess
{
    /// <summary>
    /// Starts <paramref name="start"/> (its output is redirected here), hands each line of its standard output to
    /// <paramref name="onLine"/> as it comes, and past <paramref name="timeout"/> kills it and throws, naming
    /// <paramref name="what"/> with what it printed.
    /// </summary>
    public static async Task<CliResult> RunAsync(ProcessStartInfo start, TimeSpan timeout, string what, Action<string>? onLine = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                lock (stdout)
                {
                    stdout.AppendLine(text);
                }

                onLine?.Invoke(text);
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                lock (stderr)
                {
                    stderr.AppendLine(text);
                }
            }
        };
        if (!process.Start())
        {
            throw new InvalidOperationException($"cannot start {what}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish within {timeout.TotalSeconds:0} s:\n{stdout}\n{stderr}");
        }

        // WaitForExitAsync returns once the output is drained too.
        return new CliResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A start of <paramref name="program"/> with <paramref name="args"/>, each one argument, never split again.</summary>
    public static ProcessStartInfo StartOf(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
