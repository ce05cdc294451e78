using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>The <c>handoff</c> command tree.</summary>
internal static class HandoffCommands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Handoff: start a payment on one device, pay on another.")
        {
            CliOptions.Household,
            CliOptions.Gateway,
            CliOptions.Json,
            CliOptions.Postgres,
            CliOptions.Keys,
            CliOptions.Certificate,
        };
        root.Subcommands.Add(UpCommand.Create());
        foreach (var command in ServeCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        foreach (var command in ClientCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        foreach (var command in PayerCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(ProgramCommands.Create());
        root.Subcommands.Add(MemberCommands.Create());
        root.Subcommands.Add(RuleCommands.Create());
        root.Subcommands.Add(LedgerCommands.Create());
        root.Subcommands.Add(DbCommands.Create());
        root.Subcommands.Add(AdminCommands.Pair());
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(LoadCommand.Create());
        root.Subcommands.Add(ChaosCommand.Create());
        root.Subcommands.Add(Help());

        return root;
    }

    /// <summary><c>handoff help [COMMAND…]</c>: the same as <c>--help</c>, because people type it.</summary>
    private static Command Help()
    {
        var topic = new Argument<string[]>("command") { Description = "The command to explain, e.g. pay or ledger check", Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "Show the help of handoff or of one of its commands.") { topic };
        help.SetAction((parsed, cancellation) => Build().Parse([.. parsed.GetValue(topic) ?? [], "--help"]).InvokeAsync(cancellationToken: cancellation));
        return help;
    }

    /// <summary>Parses and runs; a malformed command line gets one error line and exit code 2.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Build().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var json = args.Contains("--json");
            var message = string.Join(" ", parsed.Errors.Select(error => error.Message));
            return new Output(json).Error(ErrorCodes.Validation, $"{message} (see '{CommandPath(parsed.CommandResult)} --help')", Output.Usage, FieldOf(parsed.Errors[0]));
        }

        return await parsed.InvokeAsync();
    }

    /// <summary>The command as typed, e.g. <c>handoff ledger check</c>.</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new Stack<string>();
        for (SymbolResult? result = command; result is not null; result = result.Parent)
        {
            if (result is CommandResult { Command: { } named })
            {
                names.Push(named is RootCommand ? "handoff" : named.Name);
            }
        }

        return string.Join(' ', names);
    }

    /// <summary>The option or argument a parse error is about, named as in a validation error (<c>--duration</c> → <c>duration</c>).</summary>
    private static string? FieldOf(ParseError error) => error.SymbolResult switch
    {
        OptionResult option => option.Option.Name.TrimStart('-'),
        ArgumentResult { Parent: OptionResult option } => option.Option.Name.TrimStart('-'),
        ArgumentResult argument => argument.Argument.Name,
        _ => null,
    };

    public static string Json<T>(T value) => JsonSerializer.Serialize(value, HandoffJson.Indented);
}
