using Handoff.Contracts;
using Handoff.Grains.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace Handoff.Storage.Postgres;

/// <summary>
/// The ledger journal of a cluster on PostgreSQL (tables of migration <c>0004_ledger.sql</c>, with the
/// <c>evidence</c> column of <c>0005_ledger_evidence.sql</c>, JSON of <see cref="EvidenceJson"/>). An
/// append is one statement, queued on the hub's <see cref="PostgresWriter"/> (by default the process's
/// <see cref="PostgresWriter.Shared"/> for the connection string), so it shares the commit of the grain
/// writes queued beside it: the entry is inserted unless its entry number or payment id is taken, and
/// only an inserted entry posts to the balances. A batch is one statement too: all its entries are
/// inserted from arrays and each balance they touch is posted once with their sum; a taken payment id
/// or entry number aborts the statement (a unique violation), so the batch stores nothing (the writer
/// runs it again alone, and the rest of what shared its commit is stored) and the caller appends its
/// entries one by one. Reads use pooled connections.
/// </summary>
public sealed class PostgresLedgerJournal(string connectionString, string serviceId, Func<PostgresWriter>? writer = null) : ILedgerJournal
{
    private const string EntryColumns = "sequence, payment_id, debit_account, credit_account, amount, currency, charged_at, evidence";

    // Data-modifying CTEs run exactly once, in the statement's one snapshot and transaction. The
    // postings read the inserted row, so a conflict (DO NOTHING) posts nothing; they are ordered by
    // account so that concurrent appends lock shared balance rows in the same order.
    private const string AppendSql = $"""
        WITH entry AS
        (
            INSERT INTO handoff_ledger_entry (service_id, household_id, {EntryColumns})
            VALUES (@service, @household, @sequence, @payment, @debit, @credit, @amount, @currency, @at, @evidence)
            ON CONFLICT DO NOTHING
            RETURNING currency
        ),
        posted AS
        (
            INSERT INTO handoff_ledger_balance AS b (service_id, household_id, account, currency, balance)
            SELECT @service, @household, p.account, entry.currency, p.delta
            FROM entry
            CROSS JOIN (VALUES (@first_account, @first_delta), (@second_account, @second_delta)) AS p (account, delta)
            ORDER BY p.account
            ON CONFLICT (service_id, household_id, account, currency) DO UPDATE SET balance = b.balance + excluded.balance
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM entry)::int, (SELECT count(*) FROM posted)::int;
        """;

    // A batch: every entry from the arrays in one insert, and every balance it touches posted once (the
    // batch's sum per account and currency, in the order of the arrays: account, then currency, ordinal).
    // No ON CONFLICT on the entries: a taken payment id or entry number is a unique violation, which
    // aborts the whole statement, so the batch stores nothing and posts nothing.
    private const string AppendBatchSql = $"""
        WITH entry AS
        (
            INSERT INTO handoff_ledger_entry (service_id, household_id, {EntryColumns})
            SELECT @service, @household, e.sequence, e.payment_id, e.debit_account, e.credit_account, e.amount, e.currency, e.charged_at, e.evidence
            FROM unnest(@sequences, @payments, @debits, @credits, @amounts, @currencies, @ats, @evidences)
                AS e (sequence, payment_id, debit_account, credit_account, amount, currency, charged_at, evidence)
            RETURNING 1
        ),
        posted AS
        (
            INSERT INTO handoff_ledger_balance AS b (service_id, household_id, account, currency, balance)
            SELECT @service, @household, p.account, p.currency, p.delta
            FROM unnest(@accounts, @posting_currencies, @deltas) WITH ORDINALITY AS p (account, currency, delta, position)
            ORDER BY p.position
            ON CONFLICT (service_id, household_id, account, currency) DO UPDATE SET balance = b.balance + excluded.balance
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM entry)::int, (SELECT count(*) FROM posted)::int;
        """;

    public async Task<LedgerHead> LoadHeadAsync(string householdId, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        await using var connection = await OpenAsync(cancellation);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                Bind(new NpgsqlBatchCommand("""
                    SELECT account, currency, balance FROM handoff_ledger_balance
                    WHERE service_id = @service AND household_id = @household
                    """), householdId),
                Bind(new NpgsqlBatchCommand("""
                    SELECT coalesce(max(sequence), 0), count(*) FROM handoff_ledger_entry
                    WHERE service_id = @service AND household_id = @household
                    """), householdId),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellation))
        {
            balances[LedgerAccounts.BalanceKey(reader.GetString(0), reader.GetString(1))] = reader.GetDecimal(2);
        }

        await reader.NextResultAsync(cancellation);
        await reader.ReadAsync(cancellation);
        return new LedgerHead(balances, reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<LedgerEntry?> FindAsync(string householdId, string paymentId, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(householdId);
        await using var connection = await OpenAsync(cancellation);
        await using var command = Bind(new NpgsqlCommand($"""
            SELECT {EntryColumns} FROM handoff_ledger_entry
            WHERE service_id = @service AND household_id = @household AND payment_id = @payment
            """, connection), householdId);
        command.Parameters.Add(new NpgsqlParameter<string>("payment", NpgsqlDbType.Text) { TypedValue = paymentId });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? ReadEntry(reader) : null;
    }

    public async Task<AppendResult> AppendAsync(string householdId, LedgerEntry entry, CancellationToken cancellation)
    {
        LedgerJournal.Check(householdId, entry);
        var postings = LedgerJournal.Postings(entry);
        var (inserted, posted) = await Writer().WriteAsync(
            () =>
            {
                var append = Bind(new NpgsqlBatchCommand(AppendSql), householdId);
                append.Parameters.Add(new NpgsqlParameter<long>("sequence", NpgsqlDbType.Bigint) { TypedValue = entry.Sequence });
                append.Parameters.Add(new NpgsqlParameter<string>("payment", NpgsqlDbType.Text) { TypedValue = entry.PaymentId });
                append.Parameters.Add(new NpgsqlParameter<string>("debit", NpgsqlDbType.Text) { TypedValue = entry.DebitAccount });
                append.Parameters.Add(new NpgsqlParameter<string>("credit", NpgsqlDbType.Text) { TypedValue = entry.CreditAccount });
                append.Parameters.Add(new NpgsqlParameter<decimal>("amount", NpgsqlDbType.Numeric) { TypedValue = entry.Amount });
                append.Parameters.Add(new NpgsqlParameter<string>("currency", NpgsqlDbType.Text) { TypedValue = entry.Currency });
                append.Parameters.Add(new NpgsqlParameter<DateTime>("at", NpgsqlDbType.TimestampTz) { TypedValue = entry.At.UtcDateTime });
                append.Parameters.Add(new NpgsqlParameter("evidence", NpgsqlDbType.Jsonb) { Value = (object?)EvidenceJson.Encode(entry.Evidence) ?? DBNull.Value });
                append.Parameters.Add(new NpgsqlParameter<string>("first_account", NpgsqlDbType.Text) { TypedValue = postings[0].Account });
                append.Parameters.Add(new NpgsqlParameter<decimal>("first_delta", NpgsqlDbType.Numeric) { TypedValue = postings[0].Delta });
                append.Parameters.Add(new NpgsqlParameter<string>("second_account", NpgsqlDbType.Text) { TypedValue = postings[1].Account });
                append.Parameters.Add(new NpgsqlParameter<decimal>("second_delta", NpgsqlDbType.Numeric) { TypedValue = postings[1].Delta });
                return append;
            },
            ReadCountsAsync,
            cancellation);
        if (inserted == 1)
        {
            return posted == postings.Count
                ? AppendResult.Appended
                : throw new InvalidOperationException($"ledger '{householdId}': entry {entry.Sequence} was stored with {posted} postings instead of {postings.Count}");
        }

        // Nothing was written. ON CONFLICT waited for any conflicting writer to finish, and the transaction holding
        // the append has committed, so this new statement (a new snapshot) sees the row that took the payment id, if one did.
        await using var connection = await OpenAsync(cancellation);
        await using var find = Bind(new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM handoff_ledger_entry
                           WHERE service_id = @service AND household_id = @household AND payment_id = @payment)
            """, connection), householdId);
        find.Parameters.Add(new NpgsqlParameter<string>("payment", NpgsqlDbType.Text) { TypedValue = entry.PaymentId });
        return await find.ExecuteScalarAsync(cancellation) is true ? AppendResult.PaymentAlreadyCharged : AppendResult.SequenceTaken;
    }

    public async Task<bool> AppendBatchAsync(string householdId, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellation)
    {
        LedgerJournal.CheckBatch(householdId, entries);
        if (entries.Count == 1)
        {
            return await AppendAsync(householdId, entries[0], cancellation) == AppendResult.Appended;
        }

        var postings = LedgerJournal.Postings(entries);
        int inserted, posted;
        try
        {
            (inserted, posted) = await Writer().WriteAsync(
                () =>
                {
                    var append = Bind(new NpgsqlBatchCommand(AppendBatchSql), householdId);
                    append.Parameters.Add(ArrayOf("sequences", NpgsqlDbType.Bigint, entries, entry => entry.Sequence));
                    append.Parameters.Add(ArrayOf("payments", NpgsqlDbType.Text, entries, entry => entry.PaymentId));
                    append.Parameters.Add(ArrayOf("debits", NpgsqlDbType.Text, entries, entry => entry.DebitAccount));
                    append.Parameters.Add(ArrayOf("credits", NpgsqlDbType.Text, entries, entry => entry.CreditAccount));
                    append.Parameters.Add(ArrayOf("amounts", NpgsqlDbType.Numeric, entries, entry => entry.Amount));
                    append.Parameters.Add(ArrayOf("currencies", NpgsqlDbType.Text, entries, entry => entry.Currency));
                    append.Parameters.Add(ArrayOf("ats", NpgsqlDbType.TimestampTz, entries, entry => entry.At.UtcDateTime));
                    append.Parameters.Add(ArrayOf("evidences", NpgsqlDbType.Jsonb, entries, entry => EvidenceJson.Encode(entry.Evidence)));
                    append.Parameters.Add(ArrayOf("accounts", NpgsqlDbType.Text, postings, posting => posting.Account));
                    append.Parameters.Add(ArrayOf("posting_currencies", NpgsqlDbType.Text, postings, posting => posting.Currency));
                    append.Parameters.Add(ArrayOf("deltas", NpgsqlDbType.Numeric, postings, posting => posting.Delta));
                    return append;
                },
                ReadCountsAsync,
                cancellation);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation
            && exception.ConstraintName is "handoff_ledger_entry_pkey" or "handoff_ledger_entry_payment")
        {
            // The writer ran the batch in a transaction of its own (the shared one aborted), and it aborted: nothing of it is stored.
            return false;
        }

        if (inserted != entries.Count || posted != postings.Count)
        {
            throw new InvalidOperationException($"ledger '{householdId}': a batch of {entries.Count} entries from {entries[0].Sequence} was stored as {inserted} entries with {posted} postings instead of {postings.Count}");
        }

        return true;
    }

    public async Task<IReadOnlyList<LedgerEntry>> ReadAsync(string householdId, long afterSequence, int limit, CancellationToken cancellation)
    {
        LedgerJournal.CheckPage(householdId, afterSequence, limit);
        await using var connection = await OpenAsync(cancellation);
        await using var command = Bind(new NpgsqlCommand($"""
            SELECT {EntryColumns} FROM handoff_ledger_entry
            WHERE service_id = @service AND household_id = @household AND sequence > @after
            ORDER BY sequence
            LIMIT @limit
            """, connection), householdId);
        command.Parameters.Add(new NpgsqlParameter<long>("after", NpgsqlDbType.Bigint) { TypedValue = afterSequence });
        command.Parameters.Add(new NpgsqlParameter<int>("limit", NpgsqlDbType.Integer) { TypedValue = limit });
        var entries = new List<LedgerEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            entries.Add(ReadEntry(reader));
        }

        return entries;
    }

    /// <summary>
    /// An entry from the columns <c>sequence, payment_id, debit_account, credit_account, amount, currency, charged_at,
    /// evidence</c>, starting at <paramref name="first"/>; without its evidence when <paramref name="withEvidence"/> is false
    /// (the ledger check reads that column itself, to name a row whose evidence it cannot read).
    /// </summary>
    public static LedgerEntry ReadEntry(NpgsqlDataReader reader, int first = 0, bool withEvidence = true) => new(
        reader.GetInt64(first),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        reader.GetDecimal(first + 4),
        reader.GetString(first + 5),
        new DateTimeOffset(reader.GetFieldValue<DateTime>(first + 6), TimeSpan.Zero),
        withEvidence && !reader.IsDBNull(first + 7) ? EvidenceJson.Decode(reader.GetString(first + 7)) : null);

    /// <summary>An array parameter of one column of <paramref name="rows"/>.</summary>
    private static NpgsqlParameter<TValue[]> ArrayOf<TRow, TValue>(string name, NpgsqlDbType elementType, IReadOnlyList<TRow> rows, Func<TRow, TValue> column) =>
        new(name, NpgsqlDbType.Array | elementType) { TypedValue = [.. rows.Select(column)] };

    private static async Task<(int Inserted, int Posted)> ReadCountsAsync(NpgsqlDataReader reader, CancellationToken cancellation)
    {
        await reader.ReadAsync(cancellation);
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    private PostgresWriter Writer() => writer?.Invoke() ?? PostgresWriter.Shared(connectionString);

    private T Bind<T>(T command, string householdId)
        where T : class
    {
        var parameters = command switch
        {
            NpgsqlCommand c => c.Parameters,
            NpgsqlBatchCommand c => c.Parameters,
            _ => throw new ArgumentException("not an Npgsql command", nameof(command)),
        };
        parameters.Add(new NpgsqlParameter<string>("service", NpgsqlDbType.Text) { TypedValue = serviceId });
        parameters.Add(new NpgsqlParameter<string>("household", NpgsqlDbType.Text) { TypedValue = householdId });
        return command;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellation)
    {
        // The hub passes the providers' connection string (PostgresHostingExtensions.ForProviders): one pool for both.
        var connection = new NpgsqlConnection(connectionString);
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
