using System.Globalization;
using System.Text.Json;
using Handoff.Contracts;
using Microsoft.Data.Sqlite;

namespace Handoff.Silo.Storage;

/// <summary>
/// Moves ledgers stored the old way, as JSON grain state of type <c>ledger</c> holding every charge,
/// into the journal tables, once per file (tracked by SQLite's <c>user_version</c>). The ledger grain
/// no longer reads that grain state, so without this an upgraded hub would forget its charges.
/// </summary>
internal static class SqliteLegacyLedgers
{
    /// <summary>The file's <c>user_version</c> once its ledgers are in the journal tables.</summary>
    public const int JournalVersion = 1;

    /// <summary>Imports and deletes the old ledger states in one write transaction (<see cref="SqliteUpgrade"/>); returns how many ledgers moved.</summary>
    public static int Import(SqliteConnection connection) => SqliteUpgrade.Once(connection, JournalVersion, 0, transaction => Import(connection, transaction));

    private static int Import(SqliteConnection connection, SqliteTransaction transaction)
    {
        var ledgers = new List<(string Service, string Household, LegacyLedger Ledger)>();
        using (var read = Command(connection, transaction, """
            SELECT service_id, grain_key, payload FROM handoff_grain_state
            WHERE grain_type = 'ledger' AND payload IS NOT NULL;
            """))
        using (var reader = read.ExecuteReader())
        {
            while (reader.Read())
            {
                var household = reader.GetString(1);
                try
                {
                    var ledger = JsonSerializer.Deserialize<LegacyLedger>((byte[])reader.GetValue(2), JsonGrainStateSerializer.Options)
                        ?? throw new JsonException("the state is null");
                    ledgers.Add((reader.GetString(0), household, ledger));
                }
                catch (JsonException malformed)
                {
                    throw new InvalidDataException($"the stored ledger of household '{household}' cannot be moved into the journal tables: {malformed.Message}", malformed);
                }
            }
        }

        foreach (var (service, household, ledger) in ledgers)
        {
            foreach (var entry in ledger.Charges?.Values ?? Enumerable.Empty<LedgerEntry>())
            {
                using var insert = Command(connection, transaction, """
                    INSERT INTO handoff_ledger_entry
                        (service_id, household_id, sequence, payment_id, debit_account, credit_account, amount, currency, charged_at)
                    VALUES ($service, $household, $sequence, $payment, $debit, $credit, $amount, $currency, $at);
                    """);
                insert.Parameters.AddWithValue("$service", service);
                insert.Parameters.AddWithValue("$household", household);
                insert.Parameters.AddWithValue("$sequence", entry.Sequence);
                insert.Parameters.AddWithValue("$payment", entry.PaymentId);
                insert.Parameters.AddWithValue("$debit", entry.DebitAccount);
                insert.Parameters.AddWithValue("$credit", entry.CreditAccount);
                insert.Parameters.AddWithValue("$amount", SqliteLedgerJournal.FormatDecimal(entry.Amount));
                insert.Parameters.AddWithValue("$currency", entry.Currency);
                insert.Parameters.AddWithValue("$at", entry.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                insert.ExecuteNonQuery();
            }

            foreach (var (key, balance) in ledger.Balances ?? [])
            {
                var slash = key.LastIndexOf('/');
                using var insert = Command(connection, transaction, """
                    INSERT INTO handoff_ledger_balance (service_id, household_id, account, currency, balance)
                    VALUES ($service, $household, $account, $currency, $balance);
                    """);
                insert.Parameters.AddWithValue("$service", service);
                insert.Parameters.AddWithValue("$household", household);
                insert.Parameters.AddWithValue("$account", slash < 0 ? key : key[..slash]);
                insert.Parameters.AddWithValue("$currency", slash < 0 ? string.Empty : key[(slash + 1)..]);
                insert.Parameters.AddWithValue("$balance", SqliteLedgerJournal.FormatDecimal(balance));
                insert.ExecuteNonQuery();
            }
        }

        using (var delete = Command(connection, transaction, "DELETE FROM handoff_grain_state WHERE grain_type = 'ledger';"))
        {
            delete.ExecuteNonQuery();
        }

        return ledgers.Count;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql) => SqliteUpgrade.Command(connection, transaction, sql);

    /// <summary>The old grain state: balances by <see cref="LedgerAccounts.BalanceKey"/>, charges by payment id.</summary>
    private sealed record LegacyLedger(Dictionary<string, decimal>? Balances, Dictionary<string, LedgerEntry>? Charges);
}
