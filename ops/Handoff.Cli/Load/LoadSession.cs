namespace Handoff.Cli.Load;

/// <summary>A whole load run: host the households, drive them, check the ledger, report.</summary>
internal static class LoadSession
{
    public static async Task<(LoadReport Report, LoadOutcome Outcome)> RunAsync(LoadSettings settings, Action<string>? progress, CancellationToken cancellationToken)
    {
        var devices = settings.Households * settings.PayersPerHousehold;
        progress?.Invoke(settings.Target is { } target
            ? $"load: joining {target.Describe()} with a payer silo of {devices} devices, pairing {settings.Households} new households ..."
            : $"load: starting a hub silo and a payer silo with {devices} devices, pairing {settings.Households} households ...");
        await using var household = await LoadHousehold.StartAsync(settings, cancellationToken);
        progress?.Invoke($"load: {settings.Describe()}");
        var outcome = await new LoadRunner(household, settings, progress).RunAsync(cancellationToken);
        progress?.Invoke("load: checking the ledgers ...");
        var ledger = await LedgerCheck.RunAsync(household, outcome);
        return (LoadReport.From(settings, household, outcome, ledger), outcome);
    }
}
