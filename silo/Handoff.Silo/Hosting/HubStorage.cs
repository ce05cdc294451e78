namespace Handoff.Silo.Hosting;

/// <summary>Where a hub keeps grain state and reminders.</summary>
public enum HubStorageKind
{
    /// <summary>In memory: lost on restart. For tests and load runs.</summary>
    Memory,

    /// <summary>A SQLite file in a data folder: the embedded default, no server needed.</summary>
    Sqlite,

    /// <summary>PostgreSQL: clustering, persistence and reminders for a cluster of hubs.</summary>
    Postgres,
}

/// <summary>The hub's storage choice: a data folder for SQLite, a connection string for PostgreSQL.</summary>
public sealed record HubStorage(HubStorageKind Kind, string? DataDirectory = null, string? ConnectionString = null)
{
    public const string DefaultDataDirectory = ".handoff";

    public static HubStorage Memory { get; } = new(HubStorageKind.Memory);

    public static HubStorage Sqlite(string dataDirectory) => new(HubStorageKind.Sqlite, DataDirectory: dataDirectory);

    /// <summary>PostgreSQL; <paramref name="dataDirectory"/> still holds the hub's local files (its admin token).</summary>
    public static HubStorage Postgres(string connectionString, string? dataDirectory = null) =>
        new(HubStorageKind.Postgres, DataDirectory: dataDirectory, ConnectionString: connectionString);

    public override string ToString() => Kind switch
    {
        HubStorageKind.Sqlite => $"SQLite in {Path.GetFullPath(DataDirectory!)}",
        HubStorageKind.Postgres => "PostgreSQL",
        _ => "memory (not durable)",
    };
}
