using System.CommandLine;
using System.Globalization;
using System.Text;
using Handoff.Cli.Ledger;

namespace Handoff.Cli.Commands;

/// <summary><c>handoff ledger check</c>: verify the ledger's invariants over a hub's durable store.</summary>
internal static class LedgerCommands
{
    public static Command Create()
    {
        var check = new Command("check", "Verify over the durable store: money conserved, no double charge, one charge per Completed payment, no orphan charge, every entry's signed evidence.")
        {
            CliOptions.DataDirectory,
        };
        check.SetAction((parsed, cancellation) =>
        {
            var output = new Output(parsed.GetValue(CliOptions.Json));
            return output.RunAsync(async () =>
            {
                var postgres = parsed.GetValue(CliOptions.Postgres);
                var store = postgres is { Length: > 0 }
                    ? await StoredState.FromPostgresAsync(postgres, cancellation)
                    : await StoredState.FromSqliteAsync(parsed.GetValue(CliOptions.DataDirectory)!, cancellation);
                var report = LedgerAudit.Check(store);
                if (report.Clean)
                {
                    return output.Result(report, Render);
                }

                if (!output.Json)
                {
                    Console.Error.WriteLine(Render(report));
                }

                return output.Error("ledger_violation", string.Join("; ", report.Violations));
            });
        });
        return new Command("ledger", "Inspect the household ledger.") { check };
    }

    private static string Render(LedgerReport report)
    {
        var text = new StringBuilder();
        var states = string.Join(", ", report.PaymentsByState.Select(pair => $"{pair.Value} {pair.Key}"));
        text.AppendLine(CultureInfo.InvariantCulture, $"payments: {report.Payments}{(states.Length > 0 ? $" ({states})" : string.Empty)}");
        var totals = string.Join(", ", report.ChargedByCurrency.Select(pair => Contracts.Validation.DisplayText.Money(pair.Value, pair.Key)));
        text.AppendLine(CultureInfo.InvariantCulture, $"charges: {report.Charges}{(totals.Length > 0 ? $" ({totals})" : string.Empty)}");
        if (report.Refunds > 0)
        {
            var refunded = string.Join(", ", report.RefundedByCurrency.Select(pair => Contracts.Validation.DisplayText.Money(pair.Value, pair.Key)));
            text.AppendLine(CultureInfo.InvariantCulture, $"refunds: {report.Refunds} ({refunded})");
        }

        var evidence = report.Evidence;
        text.AppendLine(CultureInfo.InvariantCulture, $"evidence: {evidence.Signed} entries signed, {evidence.Unsigned} moved by the administrator or the rules, {evidence.None} stored before entries kept their evidence");
        foreach (var pending in report.Pending)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"pending: {pending}");
        }

        foreach (var violation in report.Violations)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"VIOLATION: {violation}");
        }

        text.Append(report.Clean ? "ledger check passed" : $"ledger check FAILED: {report.Violations.Count} violation(s)");
        return text.ToString();
    }
}
