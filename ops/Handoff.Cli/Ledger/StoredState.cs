using System.Data.Common;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.Grains;
using Handoff.Grains.Ledger;
using Handoff.Silo.Storage;
using Handoff.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Handoff.Cli.Ledger;

/// <summary>
/// One household's ledger as stored: its balance rows (by <see cref="LedgerAccounts.BalanceKey"/>), its journal in entry
/// order, and what is wrong with the evidence of rows whose evidence is not readable (the entry is read without it).
/// </summary>
internal sealed record StoredLedger(IReadOnlyDictionary<string, decimal> Balances, IReadOnlyList<LedgerEntry> Entries, IReadOnlyList<string> UnreadableEvidence);

/// <summary>A paired device's public key and when it was registered (a device paired again since signed with its old key).</summary>
internal sealed record RegisteredKey(byte[] PublicKey, DateTimeOffset RegisteredAt);

/// <summary>Payments and ledgers read straight from a hub's durable store, not through the cluster.</summary>
/// <param name="LegacyLedgers">Households whose ledger is still grain state of the old format (before the journal tables).</param>
/// <param name="Programs">The payment programs of each household that has some, by household.</param>
/// <param name="Rules">The rules of each household that has some (budgets and their refills), by household.</param>
/// <param name="DeviceKeys">The public key of each device still paired, by device id: what a signature kept with a payment is checked against.</param>
/// <param name="Members">The people of each household that has some, by household: whose each device is.</param>
internal sealed record StoredState(
    IReadOnlyDictionary<string, PaymentRecord> Payments,
    IReadOnlyDictionary<string, StoredLedger> Ledgers,
    IReadOnlyList<string> LegacyLedgers,
    IReadOnlyDictionary<string, ProgramsRecord> Programs,
    IReadOnlyDictionary<string, RulesRecord> Rules,
    IReadOnlyDictionary<string, RegisteredKey> DeviceKeys,
    IReadOnlyDictionary<string, MembersRecord> Members)
{
    /// <summary>The grain states the check reads, besides the journal tables.</summary>
    private const string Kinds = "'payment', 'ledger', 'programs', 'rules', 'device', 'members'";

    private const string ServiceId = "handoff";

    /// <summary>Reads the embedded store in <paramref name="dataDirectory"/>.</summary>
    public static async Task<StoredState> FromSqliteAsync(string dataDirectory, CancellationToken cancellation)
    {
        var file = Path.Combine(Path.GetFullPath(dataDirectory), SqliteStore.FileName);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"no hub store in {Path.GetDirectoryName(file)} (no {SqliteStore.FileName}): give the hub's data folder with --data or HANDOFF_DATA");
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellation);

        // One read transaction: the journal, the balances and the payments are of the same moment.
        await using var transaction = connection.BeginTransaction(deferred: true);
        SqliteCommand Command(string sql)
        {
            var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.Parameters.AddWithValue("$service", ServiceId);
            return command;
        }

        await using (var tables = Command("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('handoff_ledger_entry', 'handoff_ledger_balance');"))
        {
            if (Convert.ToInt64(await tables.ExecuteScalarAsync(cancellation), System.Globalization.CultureInfo.InvariantCulture) != 2)
            {
                throw new InvalidOperationException($"the store at '{file}' has no ledger journal tables yet: start its hub with this version once to upgrade it");
            }
        }

        await using (var evidence = Command("SELECT count(*) FROM pragma_table_info('handoff_ledger_entry') WHERE name = 'evidence';"))
        {
            if (Convert.ToInt64(await evidence.ExecuteScalarAsync(cancellation), System.Globalization.CultureInfo.InvariantCulture) != 1)
            {
                throw new InvalidOperationException($"the store at '{file}' keeps no evidence with its ledger entries yet: start its hub with this version once to upgrade it");
            }
        }

        var ledgers = new Dictionary<string, LedgerRows>(StringComparer.Ordinal);
        await using (var entries = Command("""
            SELECT household_id, sequence, payment_id, debit_account, credit_account, amount, currency, charged_at, evidence
            FROM handoff_ledger_entry WHERE service_id = $service ORDER BY household_id, sequence;
            """))
        {
            await using var reader = await entries.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                Ledger(ledgers, reader.GetString(0)).Add(SqliteLedgerJournal.ReadEntry(reader, first: 1, withEvidence: false), reader.IsDBNull(8) ? null : reader.GetString(8));
            }
        }

        await using (var balances = Command("SELECT household_id, account, currency, balance FROM handoff_ledger_balance WHERE service_id = $service;"))
        {
            await using var reader = await balances.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                Ledger(ledgers, reader.GetString(0)).Balances[LedgerAccounts.BalanceKey(reader.GetString(1), reader.GetString(2))] =
                    SqliteLedgerJournal.ParseDecimal(reader.GetString(3));
            }
        }

        await using var states = Command($"""
            SELECT grain_type, grain_key, payload FROM handoff_grain_state
            WHERE service_id = $service AND grain_type IN ({Kinds}) AND payload IS NOT NULL;
            """);
        await using var stateReader = await states.ExecuteReaderAsync(cancellation);
        return await ReadAsync(stateReader, ledgers, cancellation);
    }

    /// <summary>Reads a cluster's PostgreSQL store.</summary>
    public static async Task<StoredState> FromPostgresAsync(string connectionString, CancellationToken cancellation)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);

        // One snapshot for every read: a hub charging meanwhile cannot make the check see half of it.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellation);
        NpgsqlCommand Command(string sql)
        {
            var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("service", ServiceId);
            return command;
        }

        await using (var tables = Command("SELECT to_regclass('handoff_ledger_entry') IS NOT NULL AND to_regclass('handoff_ledger_balance') IS NOT NULL"))
        {
            if (await tables.ExecuteScalarAsync(cancellation) is not true)
            {
                throw new InvalidOperationException("the database has no ledger journal tables yet: run `handoff db init` to upgrade its schema");
            }
        }

        await using (var evidence = Command("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'handoff_ledger_entry' AND column_name = 'evidence')"))
        {
            if (await evidence.ExecuteScalarAsync(cancellation) is not true)
            {
                throw new InvalidOperationException("the database keeps no evidence with its ledger entries yet: run `handoff db init` to upgrade its schema");
            }
        }

        var ledgers = new Dictionary<string, LedgerRows>(StringComparer.Ordinal);
        await using (var entries = Command("""
            SELECT household_id, sequence, payment_id, debit_account, credit_account, amount, currency, charged_at, evidence
            FROM handoff_ledger_entry WHERE service_id = @service ORDER BY household_id, sequence
            """))
        {
            await using var reader = await entries.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                Ledger(ledgers, reader.GetString(0)).Add(PostgresLedgerJournal.ReadEntry(reader, first: 1, withEvidence: false), reader.IsDBNull(8) ? null : reader.GetString(8));
            }
        }

        await using (var balances = Command("SELECT household_id, account, currency, balance FROM handoff_ledger_balance WHERE service_id = @service"))
        {
            await using var reader = await balances.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                Ledger(ledgers, reader.GetString(0)).Balances[LedgerAccounts.BalanceKey(reader.GetString(1), reader.GetString(2))] = reader.GetDecimal(3);
            }
        }

        await using var states = Command($"""
            SELECT grain_type, coalesce(grain_id_extension, ''), payload FROM orleans_grain_state
            WHERE service_id = @service AND grain_type IN ({Kinds}) AND payload IS NOT NULL
            """);
        await using var stateReader = await states.ExecuteReaderAsync(cancellation);
        return await ReadAsync(stateReader, ledgers, cancellation);
    }

    private static LedgerRows Ledger(Dictionary<string, LedgerRows> ledgers, string household)
    {
        if (!ledgers.TryGetValue(household, out var ledger))
        {
            ledger = new LedgerRows();
            ledgers.Add(household, ledger);
        }

        return ledger;
    }

    private static async Task<StoredState> ReadAsync(DbDataReader reader, Dictionary<string, LedgerRows> ledgers, CancellationToken cancellation)
    {
        var payments = new Dictionary<string, PaymentRecord>(StringComparer.Ordinal);
        var programs = new Dictionary<string, ProgramsRecord>(StringComparer.Ordinal);
        var rules = new Dictionary<string, RulesRecord>(StringComparer.Ordinal);
        var keys = new Dictionary<string, RegisteredKey>(StringComparer.Ordinal);
        var members = new Dictionary<string, MembersRecord>(StringComparer.Ordinal);
        var legacy = new List<string>();
        while (await reader.ReadAsync(cancellation))
        {
            var kind = reader.GetString(0);
            var key = reader.GetString(1);
            if (kind == "ledger")
            {
                legacy.Add(key);
                continue;
            }

            var payload = (byte[])reader.GetValue(2);
            try
            {
                if (kind == "programs")
                {
                    programs[key] = JsonSerializer.Deserialize<ProgramsRecord>(payload, JsonGrainStateSerializer.Options)!;
                }
                else if (kind == "rules")
                {
                    rules[key] = JsonSerializer.Deserialize<RulesRecord>(payload, JsonGrainStateSerializer.Options)!;
                }
                else if (kind == "device")
                {
                    if (JsonSerializer.Deserialize<DeviceRecord>(payload, JsonGrainStateSerializer.Options) is { PublicKey: { } publicKey, Removed: false } device)
                    {
                        keys[key] = new RegisteredKey(publicKey, device.RegisteredAt);
                    }
                }
                else if (kind == "members")
                {
                    members[key] = JsonSerializer.Deserialize<MembersRecord>(payload, JsonGrainStateSerializer.Options)!;
                }
                else
                {
                    payments[key] = JsonSerializer.Deserialize<PaymentRecord>(payload, JsonGrainStateSerializer.Options)!;
                }
            }
            catch (JsonException malformed)
            {
                throw new InvalidDataException($"stored {kind} '{key}' is not readable: {malformed.Message}", malformed);
            }
        }

        return new StoredState(
            payments,
            ledgers.ToDictionary(pair => pair.Key, pair => new StoredLedger(pair.Value.Balances, pair.Value.Entries, pair.Value.Unreadable), StringComparer.Ordinal),
            legacy.Order(StringComparer.Ordinal).ToList(),
            programs,
            rules,
            keys,
            members);
    }

    /// <summary>One household's rows as they are read.</summary>
    private sealed class LedgerRows
    {
        public Dictionary<string, decimal> Balances { get; } = new(StringComparer.Ordinal);

        public List<LedgerEntry> Entries { get; } = [];

        public List<string> Unreadable { get; } = [];

        /// <summary>An entry read without its evidence, and the evidence's JSON: one that cannot be read is named, and the entry kept without it.</summary>
        public void Add(LedgerEntry entry, string? evidence)
        {
            try
            {
                Entries.Add(evidence is null ? entry : entry with { Evidence = EvidenceJson.Decode(evidence) });
            }
            catch (InvalidDataException unreadable)
            {
                Unreadable.Add($"entry {entry.Sequence} ('{entry.PaymentId}'): {unreadable.Message}");
                Entries.Add(entry);
            }
        }
    }
}
