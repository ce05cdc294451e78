using System.Globalization;
using System.Net;
using System.Text;
using Handoff.Contracts.Telemetry;
using Handoff.Contracts.Validation;
using Handoff.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Handoff.Silo.Telemetry;

/// <summary>
/// The hub's trace pages, read from its trace collector: <c>/traces</c> lists recent handoffs,
/// <c>/traces/{paymentId}</c> shows one as a waterfall (<c>?format=json</c> for its spans).
/// </summary>
internal static class TracePages
{
    private const int RecentCount = 50;

    public static void MapTracePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/traces", async (IGrainFactory grains) =>
        {
            var recent = await grains.GetGrain<ITraceCollectorGrain>(0).RecentAsync(RecentCount);
            return Results.Content(RenderList(recent), "text/html; charset=utf-8");
        });
        app.MapGet("/traces/{paymentId}", async (string paymentId, string? format, IGrainFactory grains) =>
        {
            var trace = await grains.GetGrain<ITraceCollectorGrain>(0).GetByPaymentAsync(paymentId);
            if (format == "json")
            {
                return trace is null ? Results.NotFound() : Results.Json(trace);
            }

            return trace is null
                ? Results.Content(Page($"Trace · {E(paymentId)}", $"<p class=\"empty\">No trace kept for <code>{E(paymentId)}</code>: not sampled, not finished yet, or no longer kept.</p>"), "text/html; charset=utf-8", statusCode: 404)
                : Results.Content(RenderTrace(trace), "text/html; charset=utf-8");
        });
    }

    private static string RenderList(IReadOnlyList<TraceSummary> recent)
    {
        if (recent.Count == 0)
        {
            return Page("Traces", "<p class=\"empty\">No handoff traced yet.</p>");
        }

        var html = new StringBuilder("<table><thead><tr><th>Started</th><th>Payment</th><th>Spans</th><th>Length</th></tr></thead><tbody>");
        foreach (var trace in recent)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{DisplayText.StepTime(trace.Start)}</td><td><a href="/traces/{E(trace.PaymentId)}"><code>{E(trace.PaymentId)}</code></a></td><td class="num">{trace.SpanCount}</td><td class="num">{Ms(trace.Duration)}</td></tr>
                """);
        }

        return Page("Traces", html.Append("</tbody></table>").ToString());
    }

    private static string RenderTrace(TraceView trace)
    {
        var start = trace.Spans.Min(span => span.Start);
        var length = Math.Max((trace.Spans.Max(span => span.Start + span.Duration) - start).TotalMilliseconds, 0.001);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"/traces\">All traces</a> · trace <code>{E(string.Join(", ", trace.Spans.Select(span => span.TraceId).Distinct()))}</code> · {trace.Spans.Count} spans · {Ms(TimeSpan.FromMilliseconds(length))}</p>");
        html.Append("<table class=\"waterfall\"><thead><tr><th>Span</th><th>Where</th><th class=\"num\">Duration</th><th class=\"bars\">Timeline</th></tr></thead><tbody>");
        foreach (var (span, depth) in TraceText.Tree(trace.Spans))
        {
            var left = (span.Start - start).TotalMilliseconds / length * 100;
            var width = Math.Max(span.Duration.TotalMilliseconds / length * 100, 0.4);
            var tone = span.Error ? "bad" : span.Name.StartsWith("payment ", StringComparison.Ordinal) || span.Name.StartsWith("payer ", StringComparison.Ordinal) ? "step" : "call";
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-span="{span.SpanId}"><td style="padding-left:{0.75 + (depth * 1.1):0.0#}rem">{E(span.Name)}</td><td>{E(TraceText.Where(span))}</td><td class="num">{Ms(span.Duration)}</td><td class="bars"><div class="bar {tone}" style="margin-left:{left:0.##}%;width:{Math.Min(width, 100 - left):0.##}%" title="+{Ms(span.Start - start)}, {Ms(span.Duration)}"></div></td></tr>
                """);
        }

        return Page($"Trace · {E(trace.PaymentId)}", html.Append("</tbody></table>").ToString());
    }

    private static string Page(string title, string body) => $"""
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><style>{Style}</style></head>
        <body><header><strong>Handoff hub</strong><span>{title}</span></header><main>{body}</main></body>
        </html>
        """;

    private static string Ms(TimeSpan duration) => duration.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body { margin: 0; font-family: system-ui, sans-serif; color: #1b1f24; background: #eef1f5; }
        header { display: flex; justify-content: space-between; gap: .5rem; padding: .8rem 1.5rem; background: #1b1f24; color: #fff; }
        main { max-width: 90rem; margin: 0 auto; padding: 1rem 1.5rem; }
        table { width: 100%; border-collapse: collapse; background: #fff; box-shadow: 0 1px 3px rgb(0 0 0 / 10%); }
        th, td { padding: .35rem .75rem; text-align: left; border-bottom: 1px solid #e3e7ec; font-size: .85rem; white-space: nowrap; }
        th { background: #f7f8fa; color: #5b6470; }
        code { font-size: .8rem; color: #5b6470; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        .bars { width: 40%; }
        .bar { height: .8rem; border-radius: .2rem; min-width: 2px; }
        .bar.call { background: #7a8ca3; }
        .bar.step { background: #2f6fdf; }
        .bar.bad { background: #b42318; }
        .empty { color: #5b6470; }
        """;
}
