using System.CommandLine;
using System.Globalization;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>
/// <c>handoff programs</c>: the payer devices' payment programs (cards and wallets) with their balances; adding,
/// topping up and removing one is the hub's, with its admin token, as renaming and removing a device is.
/// </summary>
internal static class ProgramCommands
{
    private static readonly Argument<string> ProgramArgument = new("program") { Description = "Program id" };

    public static Command Create()
    {
        var device = new Option<string?>("--device") { Description = "Only this payer device's programs [default: every device's]" };
        var command = new Command("programs", "List the payer devices' payment programs: kind, currency, balance, credit limit, what is left.") { device };
        command.Subcommands.Add(Add());
        command.Subcommands.Add(TopUp());
        command.Subcommands.Add(Remove());
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, ClientCommands.CliDevice, cancellation, async (client, output) =>
        {
            var only = parsed.GetValue(device) is { } given ? DeviceIds.Require(given, "device") : null;
            var programs = (await client.ListProgramsAsync(only)).Select(ProgramView.From).ToList();
            return output.Result(programs, Render);
        }));
        return command;
    }

    private static Command Add()
    {
        var id = new Option<string>("--id") { Description = "Id of the new program, unique in the household, e.g. wallet", Required = true };
        var device = new Option<string>("--device") { Description = "The payer device that pays with it", Required = true };
        var name = new Option<string>("--name") { Description = "What the person sees on the sheet, e.g. \"Family wallet\"", Required = true };
        var kind = CliValues.OneOf("--kind", "What the program is", ProgramKind.Card, ProgramKind.Card, ProgramKind.Wallet);
        kind.Required = true;
        var currency = new Option<string>("--currency") { Description = "ISO 4217 code it pays in, e.g. CNY", Required = true };
        var limit = new Option<string?>("--limit") { Description = "A card's credit limit: how far below zero it may go, e.g. 200.00 [default: 0; a wallet has none]" };
        var command = new Command("add", "Give a payer device a payment program (on the hub); the same program again changes nothing.")
        {
            id, device, name, kind, currency, limit, CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var program = new PaymentProgram(
                DeviceIds.Require(parsed.GetValue(id), "id"),
                DeviceIds.Require(parsed.GetValue(device), "device"),
                parsed.GetValue(name)!,
                parsed.GetValue(kind),
                PaymentRules.RequireCurrency(parsed.GetValue(currency), "currency"),
                parsed.GetValue(limit) is { } text ? ClientCommands.ParseAmount(text, "limit") : 0m);
            var added = await client.AddProgramAsync(CliOptions.AdminTokenFrom(parsed), program);
            return output.Result(ProgramView.From(added), view => $"{view.Id} ({view.Kind}, {view.Currency}) pays for {view.Device}: {view.LeftText} left");
        }));
        return command;
    }

    private static Command TopUp()
    {
        var amount = new Option<string>("--amount") { Description = "How much to put in, e.g. 100.00, in the program's currency", Required = true };
        var key = new Option<string?>("--key") { Description = "Top-up key: the same key again books nothing more [default: new]" };
        var command = new Command("top-up", "Put money into a program from the household's funding account (on the hub).")
        {
            ProgramArgument, amount, key, CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var programId = DeviceIds.Require(parsed.GetValue(ProgramArgument), "program");
            var value = ClientCommands.ParseAmount(parsed.GetValue(amount)!);
            var topUpKey = parsed.GetValue(key) is { } given ? DeviceIds.Require(given, "key") : Guid.NewGuid().ToString("n");
            var topped = await client.TopUpProgramAsync(CliOptions.AdminTokenFrom(parsed), programId, value, topUpKey);
            return output.Result(ProgramView.From(topped), view => $"{view.Id}: balance {DisplayText.Money(view.Balance, view.Currency)}, {view.LeftText} left (top-up key {topUpKey})");
        }));
        return command;
    }

    private static Command Remove()
    {
        var command = new Command("remove", "Remove a payment program: nothing can pay with it any more; its ledger history stays (on the hub).")
        {
            ProgramArgument, CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var programId = DeviceIds.Require(parsed.GetValue(ProgramArgument), "program");
            await client.RemoveProgramAsync(CliOptions.AdminTokenFrom(parsed), programId);
            return output.Result(new { removed = programId }, _ => $"{programId} removed: no payment of household '{client.HouseholdId}' can pay with it any more");
        }));
        return command;
    }

    private static string Render(IReadOnlyList<ProgramView> programs)
    {
        if (programs.Count == 0)
        {
            return "no payment programs: payer devices pay from their own accounts";
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"ID",-16} {"DEVICE",-16} {"KIND",-7} {"CUR",-4} {"BALANCE",14} {"LIMIT",12} {"LEFT",14} {"LAST",-5} NAME");
        foreach (var program in programs)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{program.Id,-16} {program.Device,-16} {program.Kind,-7} {program.Currency,-4} {Number(program.Balance),14} {Number(program.Limit),12} {Number(program.Left),14} {(program.LastUsed ? "yes" : string.Empty),-5} {program.Name}");
        }

        return text.ToString().TrimEnd();
    }

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
