using System.Diagnostics;

namespace Handoff.Processes;

/// <summary>
/// Waits for a state that another process or a cluster reaches on its own, where there is no event to await:
/// re-checks often, and past the bound fails naming what it waited for, with context for the post-mortem.
/// </summary>
public static class BoundedWait
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(100);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout, Func<string>? context = null)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}{(context is null ? string.Empty : "\n" + context())}");
            }

            await Task.Delay(Recheck);
        }
    }
}
