using System.CommandLine;

namespace Handoff.Cli.Commands;

/// <summary>Options every command understands; each falls back to an environment variable, then a default.</summary>
internal static class CliOptions
{
    public static readonly Option<string> Household = new("--household")
    {
        Description = "Household id [env HANDOFF_HOUSEHOLD]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_HOUSEHOLD") ?? "home",
    };

    public static readonly Option<string> Gateway = new("--gateway")
    {
        Description = "Hub gateway host:port [env HANDOFF_GATEWAY]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_GATEWAY") ?? "127.0.0.1:30000",
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print results and errors as JSON",
        Recursive = true,
    };

    public static readonly Option<string> PayerUrl = new("--payer-url")
    {
        Description = "The payer agent's local API [env HANDOFF_PAYER_URL]",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HANDOFF_PAYER_URL") ?? "http://127.0.0.1:5181",
    };

    /// <summary>Set by <c>handoff up</c> on its children: they exit when it does.</summary>
    public static readonly Option<int?> ParentPid = new("--parent-pid") { Hidden = true };

    public static Option<int> Port(string name, int defaultPort, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultPort,
    };
}
