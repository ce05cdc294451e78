using System.Text.Json;
using Handoff.Contracts;
using Handoff.Silo.Storage;
using Microsoft.Data.Sqlite;

namespace Handoff.Cli.Tests;

/// <summary>
/// Real processes on a SQLite store: every kind of ledger movement a household makes (a payer's approval, its refund, a
/// top-up, a budget's refill, a guardian's approval of a member's request) is stored with its evidence, which
/// <c>handoff ledger check</c> verifies from the rows alone with nothing to report; the hub's page says who asked and
/// who approved.
/// </summary>
public sealed class LedgerEvidenceTests
{
    [Fact]
    public async Task Every_movement_of_a_real_household_carries_evidence_the_check_verifies()
    {
        await using var household = await CrashHousehold.StartAsync();
        await SucceedsAsync(household, "programs", "add", "--id", "wallet", "--device", "phone-1", "--name", "Family wallet", "--kind", "wallet", "--currency", "EUR");
        await SucceedsAsync(household, "programs", "top-up", "wallet", "--amount", "100.00", "--key", "seed");

        // The TV is nobody's yet: phone-1 approves as the payer, from the wallet, and the TV gives part of it back.
        var paid = await PaidAsync(household, "payer");
        await SucceedsAsync(household, "refund", paid, "--amount", "4.00", "--key", "r-1");

        // Bob's TV asks for more than his rules let him pay alone from his own devices: Alice, the guardian, approves on phone-1.
        await SucceedsAsync(household, "members", "add", "alice", "--name", "Alice", "--role", "guardian");
        await SucceedsAsync(household, "members", "add", "bob", "--name", "Bob", "--role", "member");
        await SucceedsAsync(household, "members", "assign", "alice", "--device", "phone-1");
        await SucceedsAsync(household, "members", "assign", "bob", "--device", "tv-1");
        await SucceedsAsync(household, "rules", "set", "bob", "--budget", "20.00", "--currency", "EUR", "--from", "wallet");
        var approved = await PaidAsync(household, "guardian");

        var check = await household.LedgerCheckAsync();

        Assert.Equal((2, 1), (check.GetProperty("charges").GetInt32(), check.GetProperty("refunds").GetInt32()));
        var evidence = check.GetProperty("evidence");
        Assert.Equal((3, 2, 0), (evidence.GetProperty("signed").GetInt32(), evidence.GetProperty("unsigned").GetInt32(), evidence.GetProperty("none").GetInt32()));
        Assert.Empty(check.GetProperty("pending").EnumerateArray());
        Assert.Empty(check.GetProperty("violations").EnumerateArray());

        // Compact: the statements are their own text; a charge's two signed statements with their keys take under 1 KB.
        var sizes = await EvidenceSizesAsync(household);
        Assert.InRange(sizes[paid], 500, 1_000);
        Assert.InRange(sizes[approved], 500, 1_000);
        Assert.InRange(sizes[LedgerAccounts.RefundReference(paid, "r-1")], 200, 450);
        Assert.Equal(5, sizes.Count);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var page = await http.GetStringAsync($"{household.HubUrl}/?household={household.Household}");
        Assert.Contains($"<tr data-payment=\"{approved}\">", page, StringComparison.Ordinal);
        Assert.Contains("<td class=\"people\">asked by Bob<br>approved by Alice</td>", page, StringComparison.Ordinal);
        Assert.Contains("<td class=\"people\"><span class=\"empty\">—</span></td>", page, StringComparison.Ordinal);
    }

    private static async Task<string> PaidAsync(CrashHousehold household, string order)
    {
        var id = household.PaymentIdOf(order);
        var pay = await household.PayAsync(order);
        Assert.True(pay.ExitCode == 0, pay.ToString());
        await household.WaitForOfferAsync(id);
        var approve = await household.ApproveAsync(id);
        Assert.True(approve.ExitCode == 0, approve.ToString());
        await household.WaitForStateAsync(id, "Completed");
        return id;
    }

    /// <summary>The bytes of each row's evidence, by ledger reference, read straight from the hub's SQLite file.</summary>
    private static async Task<Dictionary<string, long>> EvidenceSizesAsync(CrashHousehold household)
    {
        var file = Path.Combine(household.DataDirectory, SqliteStore.FileName);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payment_id, length(CAST(evidence AS BLOB)) FROM handoff_ledger_entry WHERE evidence IS NOT NULL;";
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            sizes[reader.GetString(0)] = reader.GetInt64(1);
        }

        return sizes;
    }

    private static async Task<JsonElement> SucceedsAsync(CrashHousehold household, params string[] args)
    {
        var result = await household.RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }
}
