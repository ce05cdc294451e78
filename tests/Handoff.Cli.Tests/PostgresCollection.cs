namespace Handoff.Cli.Tests;

/// <summary>Shares one PostgreSQL server among the test classes of the collection.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
