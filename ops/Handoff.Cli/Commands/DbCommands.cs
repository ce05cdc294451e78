using System.CommandLine;
using Handoff.Contracts;
using Handoff.Storage.Postgres;

namespace Handoff.Cli.Commands;

/// <summary><c>handoff db init</c>: create or upgrade a cluster's PostgreSQL schema.</summary>
internal static class DbCommands
{
    public static Command Create()
    {
        var init = new Command("init", "Create or upgrade the PostgreSQL schema for cluster mode (safe to run again).");
        init.SetAction((parsed, cancellation) =>
        {
            var output = new Output(parsed.GetValue(CliOptions.Json));
            return output.RunAsync(async () =>
            {
                var database = parsed.GetValue(CliOptions.Postgres)
                    ?? throw new ValidationException("postgres", "give the database with --postgres CONNECTION or HANDOFF_POSTGRES");
                try
                {
                    var version = await PostgresSchema.EnsureAsync(database, cancellation);
                    return output.Result(new { schemaVersion = version, latest = PostgresSchema.LatestVersion }, result => $"schema at version {result.schemaVersion}");
                }
                catch (PostgresSchemaException failed)
                {
                    return output.Error("schema", failed.Message);
                }
            });
        });
        return new Command("db", "Manage a cluster's PostgreSQL database.") { init };
    }
}
