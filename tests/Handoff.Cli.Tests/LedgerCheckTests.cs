using System.Text.Json;
using Handoff.Contracts;
using Handoff.Grains;
using Handoff.Grains.Ledger;
using Handoff.Silo.Storage;
using Microsoft.Data.Sqlite;

namespace Handoff.Cli.Tests;

/// <summary>
/// <c>handoff ledger check</c> over a SQLite store written with known defects: it exits 1 and names
/// every one; over the same store without them it passes.
/// </summary>
public sealed class LedgerCheckTests : IDisposable
{
    private const string Service = "handoff";
    private static readonly DateTimeOffset s_at = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private readonly string _data = Directory.CreateTempSubdirectory("handoff-ledger-check-").FullName;
    private readonly string _connectionString;
    private readonly SqliteLedgerJournal _journal;

    public LedgerCheckTests()
    {
        _connectionString = SqliteStore.Ensure(_data);
        _journal = new SqliteLedgerJournal(_connectionString, Service);
    }

    [Fact]
    public async Task A_clean_store_passes_with_its_totals()
    {
        await PaymentAsync("p-ok", "home", PaymentState.Completed, 10m);
        await PaymentAsync("p-open", "home", PaymentState.Displayed, 3m);
        await ChargeAsync("home", 1, "p-ok", 10m);

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal(1, check.Json.GetProperty("charges").GetInt32());
        Assert.Equal(10m, check.Json.GetProperty("chargedByCurrency").GetProperty("CNY").GetDecimal());
    }

    [Fact]
    public async Task Every_defect_of_a_store_is_named_and_the_check_exits_1()
    {
        await PaymentAsync("p-ok", "home", PaymentState.Completed, 10m);
        await ChargeAsync("home", 1, "p-ok", 10m);
        await PaymentAsync("p-none", "home", PaymentState.Completed, 5m);
        await PaymentAsync("p-wrong", "home", PaymentState.Completed, 10m);
        await ChargeAsync("home", 2, "p-wrong", 99m);
        await PaymentAsync("p-declined", "home", PaymentState.Declined, 4m);
        await ChargeAsync("home", 3, "p-declined", 4m);
        await ChargeAsync("home", 4, "p-ghost", 6m);
        await PaymentAsync("p-twice", "home", PaymentState.Completed, 2m);
        await ChargeAsync("home", 5, "p-twice", 2m);
        await ChargeAsync("other", 1, "p-twice", 2m);
        await PaymentAsync("p-early", "home", PaymentState.Displayed, 1m);
        await ChargeAsync("home", 6, "p-early", 1m);

        // Money made out of nothing, an entry lost, and a ledger left in the old grain-state format.
        await ExecuteAsync("UPDATE handoff_ledger_balance SET balance = '-1000' WHERE household_id = 'home' AND account = 'payer:phone-1';");
        await PaymentAsync("p-lost", "third", PaymentState.Completed, 7m);
        await PaymentAsync("p-kept", "third", PaymentState.Completed, 8m);
        await ChargeAsync("third", 1, "p-lost", 7m);
        await ChargeAsync("third", 2, "p-kept", 8m);
        await ExecuteAsync("DELETE FROM handoff_ledger_entry WHERE household_id = 'third' AND sequence = 1;");
        await ExecuteAsync("""
            INSERT INTO handoff_grain_state (service_id, grain_type, grain_n0, grain_n1, grain_key, payload, version, modified_at)
            VALUES ('handoff', 'ledger', 0, 0, 'legacy', '{"balances":{},"charges":{}}', 1, '2026-11-28T12:00:00Z');
            """);

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 1, check.ToString());
        var error = check.Json.GetProperty("error");
        Assert.Equal("ledger_violation", error.GetProperty("code").GetString());
        var violations = error.GetProperty("message").GetString()!.Split("; ");
        string[] expected =
        [
            "ledger 'legacy' is still stored as grain state of the old format, outside the journal tables",
            "ledger 'home': CNY balances sum to -878, not 0: money was created or lost",
            "ledger 'home': balance of payer:phone-1/CNY is -1000 but its entries add up to -122",
            "ledger 'third': balance of merchant:Tea House/CNY is 15 but its entries add up to 8",
            "ledger 'third': balance of payer:phone-1/CNY is -15 but its entries add up to -8",
            "ledger 'third': entry number 1 is missing (the next entry is 2)",
            "payment 'p-twice' is charged twice: in ledger 'home' and in ledger 'other'",
            "payment 'p-declined' ended Declined but was charged (entry 3 in ledger 'home')",
            "payment 'p-early' is Displayed but already charged",
            "payment 'p-lost' is Completed but has no charge",
            "payment 'p-none' is Completed but has no charge",
            "payment 'p-wrong' was charged 99 CNY from payer:phone-1 to merchant:Tea House in ledger 'home', not 10 CNY from payer:phone-1 in 'home'",
            "ledger 'home' has a charge of 6 CNY for payment 'p-ghost', which does not exist",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), violations.Order(StringComparer.Ordinal));

        var text = await CliRunner.RunAsync("ledger", "check", "--data", _data);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains($"ledger check FAILED: {expected.Length} violation(s)", text.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private async Task ChargeAsync(string household, long sequence, string paymentId, decimal amount)
    {
        var entry = new LedgerEntry(sequence, paymentId, LedgerAccounts.PayerAccount("phone-1"), LedgerAccounts.MerchantAccount("Tea House"), amount, "CNY", s_at);
        Assert.Equal(AppendResult.Appended, await _journal.AppendAsync(household, entry, default));
    }

    private Task PaymentAsync(string paymentId, string household, PaymentState state, decimal amount)
    {
        var record = new PaymentRecord
        {
            Input = new PaymentRequestInput(household, "tv-1", "phone-1", paymentId, new PaymentInfo(amount, "CNY", "Tea House")),
            State = state,
            CreatedAt = s_at,
            Deadline = s_at.AddMinutes(2),
        };
        return ExecuteAsync(
            """
            INSERT INTO handoff_grain_state (service_id, grain_type, grain_n0, grain_n1, grain_key, payload, version, modified_at)
            VALUES ($service, 'payment', 0, 0, $key, $payload, 1, '2026-11-28T12:00:00Z');
            """,
            ("$service", Service), ("$key", paymentId), ("$payload", JsonSerializer.SerializeToUtf8Bytes(record, JsonGrainStateSerializer.Options)));
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }
}
