using System.Globalization;
using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Microsoft.Data.Sqlite;

namespace Handoff.Silo.Storage;

/// <summary>
/// The ledger journal of the embedded hub, in its SQLite file (tables <c>handoff_ledger_entry</c> and
/// <c>handoff_ledger_balance</c> of <c>sqlite-schema.sql</c>). An append, of one entry or of a batch, is one
/// write of the file's <see cref="SqliteWriter"/>: the entries and their balance postings go in together (in the
/// writer's <c>BEGIN IMMEDIATE</c> transaction, shared with other writes of the hub, within a savepoint of their
/// own), so reading the balances and writing them back cannot interleave with another writer. A batch whose
/// payment id or entry number is taken is rolled back whole. Reads use pooled connections of their own.
/// </summary>
public sealed class SqliteLedgerJournal(string connectionString, string serviceId, SqliteWriter writer) : ILedgerJournal
{
    private const string BatchSavepoint = "handoff_ledger_batch";

    private const string EntryColumns = "sequence, payment_id, debit_account, credit_account, amount, currency, charged_at, evidence";

    // A taken entry number or payment id inserts nothing (0 rows), which the appends read as "taken".
    private const string InsertEntrySql = $"""
        INSERT INTO handoff_ledger_entry (service_id, household_id, {EntryColumns})
        VALUES ($service, $household, $sequence, $payment, $debit, $credit, $amount, $currency, $at, $evidence)
        ON CONFLICT DO NOTHING;
        """;

    /// <summary>A journal that writes through this process's shared writer of the file (<see cref="SqliteWriter.Shared"/>).</summary>
    public SqliteLedgerJournal(string connectionString, string serviceId)
        : this(connectionString, serviceId, SqliteWriter.Shared(connectionString))
    {
    }

    public async Task<LedgerHead> LoadHeadAsync(string householdId, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        await using var connection = await OpenAsync(cancellation);
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        await using (var command = Command(connection, householdId, """
            SELECT account, currency, balance FROM handoff_ledger_balance
            WHERE service_id = $service AND household_id = $household;
            """))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                balances[LedgerAccounts.BalanceKey(reader.GetString(0), reader.GetString(1))] = ParseDecimal(reader.GetString(2));
            }
        }

        await using (var command = Command(connection, householdId, """
            SELECT coalesce(max(sequence), 0), count(*) FROM handoff_ledger_entry
            WHERE service_id = $service AND household_id = $household;
            """))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            await reader.ReadAsync(cancellation);
            return new LedgerHead(balances, reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    public async Task<LedgerEntry?> FindAsync(string householdId, string paymentId, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        await using var connection = await OpenAsync(cancellation);
        await using var command = Command(connection, householdId, $"""
            SELECT {EntryColumns} FROM handoff_ledger_entry
            WHERE service_id = $service AND household_id = $household AND payment_id = $payment;
            """);
        command.Parameters.AddWithValue("$payment", paymentId);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? ReadEntry(reader) : null;
    }

    public Task<AppendResult> AppendAsync(string householdId, LedgerEntry entry, CancellationToken cancellation)
    {
        LedgerJournal.Check(householdId, entry);
        return writer.WriteAsync((connection, transaction) =>
        {
            using (var insert = Command(connection, householdId, InsertEntrySql, transaction))
            {
                BindEntry(insert, entry);
                if (insert.ExecuteNonQuery() == 0)
                {
                    // Nothing was written.
                    return PaymentExists(connection, transaction, householdId, entry.PaymentId)
                        ? AppendResult.PaymentAlreadyCharged
                        : AppendResult.SequenceTaken;
                }
            }

            foreach (var (account, delta) in LedgerJournal.Postings(entry))
            {
                Post(connection, transaction, householdId, account, entry.Currency, delta);
            }

            return AppendResult.Appended;
        }, cancellation);
    }

    public async Task<bool> AppendBatchAsync(string householdId, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellation)
    {
        LedgerJournal.CheckBatch(householdId, entries);
        if (entries.Count == 1)
        {
            return await AppendAsync(householdId, entries[0], cancellation) == AppendResult.Appended;
        }

        return await writer.WriteAsync((connection, transaction) =>
        {
            // The writer's transaction holds other writes too: a refused batch undoes only its own entries.
            transaction.Save(BatchSavepoint);
            using (var insert = Command(connection, householdId, InsertEntrySql, transaction))
            {
                foreach (var entry in entries)
                {
                    BindEntry(insert, entry);
                    if (insert.ExecuteNonQuery() == 0)
                    {
                        // A taken payment id or entry number: undo the entries inserted so far.
                        transaction.Rollback(BatchSavepoint);
                        transaction.Release(BatchSavepoint);
                        return false;
                    }
                }
            }

            // Each balance the batch touches is read and written back once, with the batch's sum.
            foreach (var (account, currency, delta) in LedgerJournal.Postings(entries))
            {
                Post(connection, transaction, householdId, account, currency, delta);
            }

            transaction.Release(BatchSavepoint);
            return true;
        }, cancellation);
    }

    public async Task<IReadOnlyList<LedgerEntry>> ReadAsync(string householdId, long afterSequence, int limit, CancellationToken cancellation)
    {
        LedgerJournal.CheckPage(householdId, afterSequence, limit);
        await using var connection = await OpenAsync(cancellation);
        await using var command = Command(connection, householdId, $"""
            SELECT {EntryColumns} FROM handoff_ledger_entry
            WHERE service_id = $service AND household_id = $household AND sequence > $after
            ORDER BY sequence
            LIMIT $limit;
            """);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", limit);
        var entries = new List<LedgerEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            entries.Add(ReadEntry(reader));
        }

        return entries;
    }

    /// <summary>Decimal text as the ledger tables keep it.</summary>
    public static string FormatDecimal(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads decimal text of the ledger tables.</summary>
    public static decimal ParseDecimal(string text) => decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    /// <summary>
    /// An entry from the columns <c>sequence, payment_id, debit_account, credit_account, amount, currency, charged_at,
    /// evidence</c>, starting at <paramref name="first"/>; without its evidence when <paramref name="withEvidence"/> is false
    /// (the ledger check reads that column itself, to name a row whose evidence it cannot read).
    /// </summary>
    public static LedgerEntry ReadEntry(SqliteDataReader reader, int first = 0, bool withEvidence = true) => new(
        reader.GetInt64(first),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        ParseDecimal(reader.GetString(first + 4)),
        reader.GetString(first + 5),
        DateTimeOffset.Parse(reader.GetString(first + 6), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        withEvidence && !reader.IsDBNull(first + 7) ? EvidenceJson.Decode(reader.GetString(first + 7)) : null);

    private bool PaymentExists(SqliteConnection connection, SqliteTransaction transaction, string householdId, string paymentId)
    {
        using var command = Command(connection, householdId, """
            SELECT EXISTS (SELECT 1 FROM handoff_ledger_entry
                           WHERE service_id = $service AND household_id = $household AND payment_id = $payment);
            """, transaction);
        command.Parameters.AddWithValue("$payment", paymentId);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 1;
    }

    private decimal Balance(SqliteConnection connection, SqliteTransaction transaction, string householdId, string account, string currency)
    {
        using var command = Command(connection, householdId, """
            SELECT balance FROM handoff_ledger_balance
            WHERE service_id = $service AND household_id = $household AND account = $account AND currency = $currency;
            """, transaction);
        command.Parameters.AddWithValue("$account", account);
        command.Parameters.AddWithValue("$currency", currency);
        return command.ExecuteScalar() is string balance ? ParseDecimal(balance) : 0m;
    }

    /// <summary>Adds <paramref name="delta"/> to one balance, inside the append's write transaction.</summary>
    private void Post(SqliteConnection connection, SqliteTransaction transaction, string householdId, string account, string currency, decimal delta)
    {
        var balance = Balance(connection, transaction, householdId, account, currency) + delta;
        using var post = Command(connection, householdId, """
            INSERT INTO handoff_ledger_balance (service_id, household_id, account, currency, balance)
            VALUES ($service, $household, $account, $currency, $delta)
            ON CONFLICT (service_id, household_id, account, currency) DO UPDATE SET balance = $balance;
            """, transaction);
        post.Parameters.AddWithValue("$account", account);
        post.Parameters.AddWithValue("$currency", currency);
        post.Parameters.AddWithValue("$delta", FormatDecimal(delta));
        post.Parameters.AddWithValue("$balance", FormatDecimal(balance));
        post.ExecuteNonQuery();
    }

    private static void BindEntry(SqliteCommand insert, LedgerEntry entry)
    {
        Set("$sequence", entry.Sequence);
        Set("$payment", entry.PaymentId);
        Set("$debit", entry.DebitAccount);
        Set("$credit", entry.CreditAccount);
        Set("$amount", FormatDecimal(entry.Amount));
        Set("$currency", entry.Currency);
        Set("$at", entry.At.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        Set("$evidence", (object?)EvidenceJson.Encode(entry.Evidence) ?? DBNull.Value);

        void Set(string name, object value)
        {
            if (insert.Parameters.Contains(name))
            {
                insert.Parameters[name].Value = value;
            }
            else
            {
                insert.Parameters.AddWithValue(name, value);
            }
        }
    }

    /// <summary>A command on <paramref name="connection"/>, in <paramref name="transaction"/> if any, with $service and $household bound.</summary>
    private SqliteCommand Command(SqliteConnection connection, string householdId, string sql, SqliteTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$service", serviceId);
        command.Parameters.AddWithValue("$household", householdId);
        return command;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellation)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellation);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
