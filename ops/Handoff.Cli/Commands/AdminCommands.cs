using System.CommandLine;
using Handoff.Contracts;
using Handoff.Sdk.Wire;
using QRCoder;

namespace Handoff.Cli.Commands;

/// <summary>Hub-side administration, which needs the hub's admin token: pairing codes, renaming and removing devices.</summary>
internal static class AdminCommands
{
    /// <summary>The identity of the hub's admin calls: they prove themselves with the admin token, not a device key.</summary>
    internal const string AdminDevice = "handoff-admin";

    public static Command Pair()
    {
        var command = new Command("pair", "Issue a one-time pairing code (6 digits, 120 s, 3 tries) for a new device; run it on the hub.")
        {
            CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminDevice, cancellation, async (client, output) =>
        {
            var code = await client.CreatePairingCodeAsync(CliOptions.AdminTokenFrom(parsed));
            return output.Result(code, pairing => $"""
                Pairing code for household '{client.HouseholdId}': {pairing.Code}
                valid until {Contracts.Validation.DisplayText.Time(pairing.ExpiresAt)}, {pairing.Tries} tries. On the new device:
                  handoff payer --device ID --pin PIN --pair {pairing.Code}      (a phone or watch)
                  handoff initiator --device ID --pair {pairing.Code}           (a TV, tablet or car)

                {Qr($"handoff-pair:{client.HouseholdId}:{pairing.Code}")}
                """);
        }));
        return command;
    }

    public static IEnumerable<Command> DeviceAdmin()
    {
        var device = new Argument<string>("device") { Description = "Device id" };
        var newName = new Argument<string>("name") { Description = "The new display name" };
        var rename = new Command("rename", "Rename a device of the household (on the hub).") { device, newName, CliOptions.DataDirectory };
        rename.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminDevice, cancellation, async (client, output) =>
        {
            var renamed = await client.RenameDeviceAsync(CliOptions.AdminTokenFrom(parsed), parsed.GetValue(device)!, parsed.GetValue(newName)!);
            return output.Result(DeviceView.From(renamed), view => $"{view.Id} is now '{view.DisplayName}'");
        }));
        yield return rename;

        var remove = new Command("remove", "Remove a device from the household: its key stops counting (on the hub).") { device, CliOptions.DataDirectory };
        remove.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminDevice, cancellation, async (client, output) =>
        {
            var id = parsed.GetValue(device)!;
            await client.RemoveDeviceAsync(CliOptions.AdminTokenFrom(parsed), id);
            return output.Result(new { removed = id }, _ => $"{id} removed: it can do nothing more in household '{client.HouseholdId}'");
        }));
        yield return remove;
    }

    private static string Qr(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        return new AsciiQRCode(data).GetGraphicSmall();
    }
}
