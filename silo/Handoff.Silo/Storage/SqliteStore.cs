using Microsoft.Data.Sqlite;

namespace Handoff.Silo.Storage;

/// <summary>The embedded hub's SQLite file: where it is and how its schema is created.</summary>
public static class SqliteStore
{
    /// <summary>The Orleans ADO.NET invariant under which Microsoft.Data.Sqlite is registered.</summary>
    public const string Invariant = "System.Data.SQLite";

    public const string FileName = "handoff.db";

    /// <summary>The connection string of the store in <paramref name="dataDirectory"/>.</summary>
    public static string ConnectionString(string dataDirectory) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(Path.GetFullPath(dataDirectory), FileName),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>
    /// Creates the data folder and the schema (idempotent), moves ledgers stored by an older hub into
    /// the journal tables and gives an older journal its evidence column; throws naming the folder when it cannot.
    /// </summary>
    public static string Ensure(string dataDirectory)
    {
        try
        {
            Directory.CreateDirectory(dataDirectory);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot create the data folder '{Path.GetFullPath(dataDirectory)}': {exception.Message}", exception);
        }

        var connectionString = ConnectionString(dataDirectory);
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous = FULL;" + Schema();
        command.ExecuteNonQuery();
        SqliteLegacyLedgers.Import(connection);
        SqliteEvidenceColumn.Add(connection);
        return connectionString;
    }

    private static string Schema()
    {
        using var stream = typeof(SqliteStore).Assembly.GetManifestResourceStream("sqlite-schema.sql")
            ?? throw new InvalidOperationException("the SQLite schema is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
