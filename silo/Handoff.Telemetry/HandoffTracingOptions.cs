namespace Handoff.Telemetry;

/// <summary>Tracing settings of a household process (section <c>Handoff:Tracing</c>).</summary>
public sealed class HandoffTracingOptions
{
    public const string Section = "Handoff:Tracing";

    /// <summary>Share of handoffs traced, 0 to 1; decided where a handoff starts and followed by every other process.</summary>
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>Whether finished spans go to the hub's collector (for <c>handoff trace</c> and the hub's trace page).</summary>
    public bool ExportToHub { get; set; } = true;

    /// <summary>How long a finished span may wait before its batch goes to the hub.</summary>
    public TimeSpan ExportDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Spans waiting for export at most; past that new spans are dropped rather than slow anything down.</summary>
    public int MaxQueuedSpans { get; set; } = 4096;

    /// <summary>The options as named by configuration, with a readable error for a bad value.</summary>
    public string? Problem() =>
        SampleRatio is < 0 or > 1 or double.NaN ? $"{Section}:SampleRatio must be between 0 and 1, not {SampleRatio}"
        : MaxQueuedSpans < 1 ? $"{Section}:MaxQueuedSpans must be positive"
        : ExportDelay <= TimeSpan.Zero ? $"{Section}:ExportDelay must be positive"
        : null;
}
