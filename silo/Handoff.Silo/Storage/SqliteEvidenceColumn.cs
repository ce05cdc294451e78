using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Handoff.Silo.Storage;

/// <summary>
/// Gives a journal table made by an older hub its <c>evidence</c> column, once per file (<see cref="SqliteUpgrade"/>,
/// after <see cref="SqliteLegacyLedgers"/>): its rows keep their terms and carry no evidence, and new rows carry theirs.
/// A file whose table was made with the column only has its version raised.
/// </summary>
internal static class SqliteEvidenceColumn
{
    /// <summary>The file's <c>user_version</c> once its journal rows can carry their evidence.</summary>
    public const int EvidenceVersion = 2;

    /// <summary>Adds the column if the table lacks it; true when it was added.</summary>
    public static bool Add(SqliteConnection connection) => SqliteUpgrade.Once(connection, EvidenceVersion, false, transaction =>
    {
        using (var column = SqliteUpgrade.Command(connection, transaction, "SELECT count(*) FROM pragma_table_info('handoff_ledger_entry') WHERE name = 'evidence';"))
        {
            if (Convert.ToInt64(column.ExecuteScalar(), CultureInfo.InvariantCulture) == 1)
            {
                return false;
            }
        }

        // A nullable column without a default: SQLite changes the table's definition only, whatever its length.
        using var alter = SqliteUpgrade.Command(connection, transaction, "ALTER TABLE handoff_ledger_entry ADD COLUMN evidence TEXT NULL;");
        alter.ExecuteNonQuery();
        return true;
    });
}
