using System.Globalization;
using System.Net;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Handoff.Silo.Hosting;

/// <summary>
/// The hub's page at <c>/</c>: a household's devices with their presence and its recent payments with their
/// states, read in-process from the grains. <c>?household=ID</c> picks the household (default <c>home</c>).
/// </summary>
internal static class HubPage
{
    public const string DefaultHousehold = "home";
    private const int RecentCount = 20;
    private const string Reader = "hub-page";

    public static void MapHubPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", async (string? household, IGrainFactory grains, TimeProvider time) =>
        {
            var householdId = string.IsNullOrWhiteSpace(household) ? DefaultHousehold : household;
            if (!DeviceIds.IsValid(householdId))
            {
                return Results.BadRequest($"household: '{householdId}' is not a household id");
            }

            // Read by the hub itself (its own calls carry the hub's authority): only the hub's machine serves this page.
            var home = grains.GetGrain<IHouseholdGrain>(householdId);
            var devices = await home.ListDevicesAsync();
            var members = await grains.GetGrain<IHouseholdMembersGrain>(householdId).ListAsync();
            var paymentIds = await home.RecentPaymentsAsync(RecentCount);
            var payments = await Task.WhenAll(paymentIds.Select(id => FindAsync(grains, id)));
            var html = Render(householdId, devices, members, [.. payments.OfType<PaymentSnapshot>()], time.GetLocalNow());
            return Results.Content(html, "text/html; charset=utf-8");
        });
    }

    private static async Task<PaymentSnapshot?> FindAsync(IGrainFactory grains, string paymentId)
    {
        try
        {
            return await grains.GetGrain<IPaymentRequestGrain>(paymentId).GetAsync();
        }
        catch (NotFoundException)
        {
            // A payment refused before it started (payer offline) is forgotten; the household may still list it.
            return null;
        }
    }

    private static string Render(string householdId, IReadOnlyList<DeviceStatus> devices, IReadOnlyList<HouseholdMember> members, IReadOnlyList<PaymentSnapshot> payments, DateTimeOffset now)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="5">
            <title>Hub · {E(householdId)}</title>
            <style>{Style}</style>
            </head>
            <body>
            <header><strong>Handoff hub</strong><span>household <b>{E(householdId)}</b> · updated {DisplayText.Time(now)} · refreshes every 5 s · <a href="/traces">traces</a> · <a href="/dashboard/">Orleans dashboard</a> · <a href="/metrics">metrics</a></span></header>
            <main>
            <section aria-labelledby="devices-title">
            <h1 id="devices-title">Devices</h1>
            """);
        if (devices.Count == 0)
        {
            html.Append("<p class=\"empty\">No devices have joined this household yet.</p>");
        }
        else
        {
            html.Append("<table id=\"devices\"><thead><tr><th>Device</th><th>Person</th><th>Kind</th><th>Role</th><th>Presence</th><th>Pays</th></tr></thead><tbody>");
            foreach (var device in devices)
            {
                var presence = device.Online ? "online" : "offline";
                var person = members.FirstOrDefault(member => member.Devices.Contains(device.DeviceId)) is { } owner
                    ? $"{E(owner.Name)}<br><small>{Lower(owner.Role)}</small>"
                    : "<span class=\"empty\">—</span>";
                var pays = device.Capabilities.CanPay
                    ? "yes (" + string.Join(", ", device.Capabilities.AuthMethods.Select(method => method.ToString().ToLowerInvariant())) + ")"
                    : "no";
                html.Append(CultureInfo.InvariantCulture, $"""
                    <tr data-device="{E(device.DeviceId)}"><td>{E(device.DisplayName)}<br><code>{E(device.DeviceId)}</code></td><td class="person">{person}</td><td>{Lower(device.Kind)}</td><td>{Lower(device.Role)}</td><td><span class="presence {presence}">{presence}</span></td><td>{pays}</td></tr>
                    """);
            }

            html.Append("</tbody></table>");
        }

        html.Append("</section><section aria-labelledby=\"payments-title\"><h1 id=\"payments-title\">Recent payments</h1>");
        if (payments.Count == 0)
        {
            html.Append("<p class=\"empty\">No payments yet.</p>");
        }
        else
        {
            html.Append("<table id=\"payments\"><thead><tr><th>Created</th><th>Payment</th><th>From → to</th><th>People</th><th>Amount</th><th>Merchant</th><th>State</th><th>Last step</th></tr></thead><tbody>");
            foreach (var payment in payments)
            {
                var last = payment.History.Count > 0 ? payment.History[^1] : null;
                // The state table says how a state ended: paid, unpaid, or not yet.
                var tone = payment.State.IsUnpaid() ? "bad" : payment.IsTerminal ? "good" : "busy";
                var refunded = payment.Refunded > 0
                    ? $" <span class=\"refunded\">refunded {E(DisplayText.Money(payment.Refunded, payment.Info.Currency))}</span>"
                    : string.Empty;
                // Who asked and who approved, as the payment's JSON says them (askedBy, approvedBy).
                var people = string.Join("<br>", new[]
                {
                    payment.AskedBy is { } asker ? $"asked by {E(asker.Name)}" : null,
                    payment.ApprovedBy is { } guardian ? $"approved by {E(guardian.Name)}" : null,
                }.OfType<string>()) is { Length: > 0 } named ? named : "<span class=\"empty\">—</span>";
                html.Append(CultureInfo.InvariantCulture, $"""
                    <tr data-payment="{E(payment.PaymentId)}"><td>{DisplayText.Time(payment.CreatedAt)}</td><td><code>{E(payment.PaymentId)}</code></td><td>{E(payment.InitiatorDeviceId)} → {E(payment.Payer ?? string.Join(" or ", payment.Payers))}</td><td class="people">{people}</td><td class="num">{E(DisplayText.Money(payment.Info.Amount, payment.Info.Currency))}</td><td>{E(payment.Info.Merchant)}</td><td><span class="state {tone}">{payment.State}</span>{refunded}</td><td>{E(last?.Cause ?? string.Empty)}</td></tr>
                    """);
            }

            html.Append("</tbody></table>");
        }

        html.Append("</section></main></body></html>");
        return html.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    private const string Style = """
        body { margin: 0; font-family: system-ui, sans-serif; color: #1b1f24; background: #eef1f5; }
        header a { color: #9ecbff; }
        header { display: flex; justify-content: space-between; flex-wrap: wrap; gap: .5rem; padding: .8rem 1.5rem; background: #1b1f24; color: #fff; }
        main { max-width: 70rem; margin: 0 auto; padding: 1rem 1.5rem; }
        h1 { font-size: 1.2rem; margin: 1.2rem 0 .5rem; }
        table { width: 100%; border-collapse: collapse; background: #fff; border-radius: .6rem; overflow: hidden; box-shadow: 0 1px 3px rgb(0 0 0 / 10%); }
        th, td { padding: .5rem .75rem; text-align: left; border-bottom: 1px solid #e3e7ec; font-size: .9rem; vertical-align: top; }
        th { background: #f7f8fa; color: #5b6470; font-weight: 600; }
        code { font-size: .8rem; color: #5b6470; }
        .num { font-variant-numeric: tabular-nums; white-space: nowrap; }
        .empty { color: #5b6470; }
        .presence::before { content: "●"; margin-right: .3rem; }
        .presence.online { color: #11734b; }
        .presence.offline { color: #b42318; }
        .state { padding: .1rem .5rem; border-radius: 1rem; font-weight: 600; font-size: .8rem; }
        .state.good { background: #dcf3e6; color: #11734b; }
        .state.bad { background: #fde7e4; color: #b42318; }
        .state.busy { background: #fff3d6; color: #8a5a00; }
        """;
}
