using System.CommandLine;
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

        root.Subcommands.Add(LedgerCommands.Create());
        root.Subcommands.Add(DbCommands.Create());
        root.Subcommands.Add(AdminCommands.Pair());
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(LoadCommand.Create());

        return root;
    }

    /// <summary>Parses and runs; a malformed command line gets one error line and exit code 2.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Build().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var json = args.Contains("--json");
            var message = string.Join(" ", parsed.Errors.Select(error => error.Message));
            return new Output(json).Error(ErrorCodes.Validation, $"{message} (see 'handoff --help')", Output.Usage);
        }

        return await parsed.InvokeAsync();
    }

    public static string Json<T>(T value) => JsonSerializer.Serialize(value, HandoffJson.Indented);
}
