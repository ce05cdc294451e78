using Handoff.Contracts.Security;
using Handoff.Contracts.Validation;
using Handoff.Grains.Payer;
using Microsoft.Extensions.Hosting;

namespace Handoff.PayerAgent;

/// <summary>The device's screen in a terminal: each offer as it is pushed, each ending as it happens.</summary>
internal sealed class TerminalSheet(PaymentSheetBoard board, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var sheetEvent in board.ListenAsync(stoppingToken))
            {
                Console.WriteLine(Render(sheetEvent));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private string Render(SheetEvent sheetEvent) => sheetEvent.Kind switch
    {
        SheetEvent.Shown when sheetEvent.Offer is { } offer => string.Join(
            Environment.NewLine,
            $"┌─ Payment request on {offer.PayerDeviceId} ─────────────────",
            $"│ {offer.Info.Merchant}: {DisplayText.Money(offer.Info.Amount, offer.Info.Currency)}"
                + (offer.Info.Description is { } description ? $" ({description})" : string.Empty),
            $"│ asked by {offer.InitiatorName} ({offer.InitiatorDeviceId}), expires in {Math.Max(0, (int)(offer.Deadline - time.GetUtcNow()).TotalSeconds)}s",
            $"│ match code {Signing.MatchCode(offer)}: check that the TV shows the same",
            $"│ approve: handoff approve {offer.PaymentId} --pin <PIN>",
            $"│ decline: handoff decline {offer.PaymentId}",
            "└──────────────────────────────────────────────────"),
        SheetEvent.WrongPin => $"✗ {sheetEvent.PaymentId}: wrong PIN, {sheetEvent.TriesLeft} tries left",
        SheetEvent.Closed => $"■ {sheetEvent.PaymentId}: {sheetEvent.FinalState}" + (sheetEvent.Reason is { } reason ? $" ({reason})" : string.Empty),
        SheetEvent.Refunded => $"↩ {sheetEvent.PaymentId}: refunded, {sheetEvent.Reason}",
        _ => $"{sheetEvent.Kind} {sheetEvent.PaymentId}",
    };
}
