using Handoff.Silo.Storage;
using Microsoft.Data.Sqlite;

namespace Handoff.Storage.Tests;

/// <summary>A fresh data folder with the embedded hub's SQLite store (schema applied), deleted afterwards.</summary>
public sealed class SqliteFolder : IDisposable
{
    public SqliteFolder(string prefix)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;
        ConnectionString = SqliteStore.Ensure(Directory);
    }

    public string Directory { get; }

    public string ConnectionString { get; }

    public void Dispose()
    {
        // Pooled connections keep the file open; close them before the folder goes.
        SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
