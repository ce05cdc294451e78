namespace Handoff.Cli.Load;

/// <summary>A whole load run: host the households, drive them, check the ledger, report.</summary>
internal static class LoadSession
{
    public static async Task<(LoadReport Report, LoadOutcome Outcome)> RunAsync(LoadSettings settings, Action<string>? progress, CancellationToken cancellationToken)
    {
        progress?.Invoke($"load: starting a hub silo and a payer silo with {settings.Households * settings.PayersPerHousehold} devices, pairing {settings.Households} households ...");
        await using var household = await LoadHousehold.StartAsync(settings, cancellationToken);
        progress?.Invoke($"load: {settings.Describe()}");
        var outcome = await new LoadRunner(household, settings, progress).RunAsync(cancellationToken);
        progress?.Invoke("load: checking the ledgers ...");
        var ledger = await LedgerCheck.RunAsync(household, outcome);
        return (LoadReport.From(settings, household, outcome, ledger), outcome);
    }
}
