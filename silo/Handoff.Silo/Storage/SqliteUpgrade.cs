using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Handoff.Silo.Storage;

/// <summary>
/// How the embedded store upgrades a file written by an older hub, one step per version of the file (SQLite's
/// <c>user_version</c>): each step runs once, in one write transaction that also raises the version, so a file is
/// either upgraded by the step or left as it was, and two processes starting on it at once upgrade it once.
/// </summary>
internal static class SqliteUpgrade
{
    /// <summary>Runs <paramref name="step"/> unless the file is at <paramref name="version"/> already (then <paramref name="skipped"/>).</summary>
    public static T Once<T>(SqliteConnection connection, int version, T skipped, Func<SqliteTransaction, T> step)
    {
        if (UserVersion(connection, null) >= version)
        {
            return skipped;
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        if (UserVersion(connection, transaction) >= version)
        {
            return skipped;
        }

        var done = step(transaction);
        using (var raise = Command(connection, transaction, $"PRAGMA user_version = {version.ToString(CultureInfo.InvariantCulture)};"))
        {
            raise.ExecuteNonQuery();
        }

        transaction.Commit();
        return done;
    }

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static long UserVersion(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = Command(connection, transaction, "PRAGMA user_version;");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
