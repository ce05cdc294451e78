using Handoff.Contracts.Telemetry;
using OpenTelemetry.Trace;

namespace Handoff.Telemetry;

/// <summary>
/// Samples whole handoffs: a trace may start only where a handoff or a person's step on it starts, with the
/// configured ratio; everything else follows its parent's decision. Orleans' own background calls (membership,
/// presence heartbeats, page reads) start no trace, and neither do the exports to the hub's collector, which
/// would otherwise trace themselves forever.
/// </summary>
internal sealed class HandoffSampler(double ratio) : Sampler
{
    private static readonly string[] s_traceStarts =
    [
        "IPaymentRequestGrain/Create",
        "IPaymentRequestGrain/Cancel",
        "IPaymentAbilityGrain/Approve",
        "IPaymentAbilityGrain/Decline",
        "payment ",
        "payer ",
    ];

    private static readonly SamplingResult s_drop = new(SamplingDecision.Drop);
    private readonly Sampler _handoffs = new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var name = samplingParameters.Name;
        if (name.StartsWith(nameof(ITraceCollectorGrain), StringComparison.Ordinal))
        {
            return s_drop;
        }

        if (samplingParameters.ParentContext.TraceId == default && !StartsTrace(name))
        {
            return s_drop;
        }

        return _handoffs.ShouldSample(samplingParameters);
    }

    private static bool StartsTrace(string name)
    {
        foreach (var start in s_traceStarts)
        {
            if (name.StartsWith(start, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
