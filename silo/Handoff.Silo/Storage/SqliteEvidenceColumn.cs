using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Handoff.Silo.Storage;

/// <summary>
/// Gives a journal table made by an older hub its <c>evidence</c> column, once per file (tracked by SQLite's
/// <c>user_version</c>, after <see cref="SqliteLegacyLedgers"/>): its rows keep their terms and carry no evidence, and
/// new rows carry theirs. A file whose table was made with the column only has its version raised.
/// </summary>
internal static class SqliteEvidenceColumn
{
    /// <summary>The file's <c>user_version</c> once its journal rows can carry their evidence.</summary>
    public const int EvidenceVersion = 2;

    /// <summary>Adds the column if the table lacks it, in one write transaction; true when it was added.</summary>
    public static bool Add(SqliteConnection connection)
    {
        if (UserVersion(connection, null) >= EvidenceVersion)
        {
            return false;
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        if (UserVersion(connection, transaction) >= EvidenceVersion)
        {
            return false;
        }

        bool added;
        using (var column = Command(connection, transaction, "SELECT count(*) FROM pragma_table_info('handoff_ledger_entry') WHERE name = 'evidence';"))
        {
            added = Convert.ToInt64(column.ExecuteScalar(), CultureInfo.InvariantCulture) == 0;
        }

        if (added)
        {
            // A nullable column without a default: SQLite changes the table's definition only, whatever its length.
            using var alter = Command(connection, transaction, "ALTER TABLE handoff_ledger_entry ADD COLUMN evidence TEXT NULL;");
            alter.ExecuteNonQuery();
        }

        using (var version = Command(connection, transaction, $"PRAGMA user_version = {EvidenceVersion};"))
        {
            version.ExecuteNonQuery();
        }

        transaction.Commit();
        return added;
    }

    private static long UserVersion(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = Command(connection, transaction, "PRAGMA user_version;");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
