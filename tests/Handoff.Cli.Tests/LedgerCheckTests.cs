using System.Security.Cryptography;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.Contracts.Security;
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
    public async Task Refunds_within_their_charge_pass_and_every_refund_defect_is_named()
    {
        await PaymentAsync("p-ok", "home", PaymentState.Completed, 10m, new PaymentRefund("r-1", 3m, 3m, s_at, 2));
        await ChargeAsync("home", 1, "p-ok", 10m);
        await RefundEntryAsync("home", 2, "p-ok", "r-1", 3m);

        var clean = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Equal(1, clean.Json.GetProperty("refunds").GetInt32());
        Assert.Equal(3m, clean.Json.GetProperty("refundedByCurrency").GetProperty("CNY").GetDecimal());

        await PaymentAsync("p-over", "home", PaymentState.Completed, 5m, new PaymentRefund("r-1", 4m, 4m, s_at, 4), new PaymentRefund("r-2", 4m, 4m, s_at, 5));
        await ChargeAsync("home", 3, "p-over", 5m);
        await RefundEntryAsync("home", 4, "p-over", "r-1", 4m);
        await RefundEntryAsync("home", 5, "p-over", "r-2", 4m);
        await PaymentAsync("p-declined", "home", PaymentState.Declined, 2m);
        await RefundEntryAsync("home", 6, "p-declined", "r-1", 2m);
        await RefundEntryAsync("home", 7, "p-ok", "unrecorded", 1m);
        await PaymentAsync("p-lost", "home", PaymentState.Completed, 1m, new PaymentRefund("r-1", 1m, null, s_at, 99));
        await ChargeAsync("home", 8, "p-lost", 1m);

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 1, check.ToString());
        var violations = check.Json.GetProperty("error").GetProperty("message").GetString()!.Split("; ");
        Assert.Contains("payment 'p-over' was refunded 8 CNY, more than its charge of 5 CNY", violations);
        Assert.Contains("ledger 'home' refunds payment 'p-declined', which was never charged", violations);
        Assert.Contains("ledger 'home': refund entry 7 of payment 'p-ok' (key 'unrecorded') is not a refund the payment records", violations);
        Assert.Contains("payment 'p-lost' records 1 booked refund(s) that no ledger holds", violations);
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

    [Fact]
    public async Task Programs_within_their_balance_or_limit_pass_and_one_beyond_is_named()
    {
        await ProgramsAsync("home", new PaymentProgram("wallet", "phone-1", "Family wallet", ProgramKind.Wallet, "CNY", 0m), new PaymentProgram("card", "phone-1", "Bank card", ProgramKind.Card, "CNY", 50m));
        await EntryAsync("home", 1, LedgerAccounts.TopUpReference("wallet", "seed"), LedgerAccounts.FundingAccount, LedgerAccounts.ProgramAccount("wallet"), 20m);
        await PaymentAsync("p-wallet", "home", PaymentState.Completed, 15m, funding: "wallet");
        await EntryAsync("home", 2, "p-wallet", LedgerAccounts.ProgramAccount("wallet"), LedgerAccounts.MerchantAccount("Tea House"), 15m);
        await PaymentAsync("p-card", "home", PaymentState.Completed, 50m, funding: "card");
        await EntryAsync("home", 3, "p-card", LedgerAccounts.ProgramAccount("card"), LedgerAccounts.MerchantAccount("Tea House"), 50m);

        var clean = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Equal(2, clean.Json.GetProperty("charges").GetInt32());

        // A charge the ledger would have refused, a top-up from a merchant, and a charge from another account than the program approved.
        await PaymentAsync("p-over", "home", PaymentState.Completed, 6m, funding: "wallet");
        await EntryAsync("home", 4, "p-over", LedgerAccounts.ProgramAccount("wallet"), LedgerAccounts.MerchantAccount("Tea House"), 6m);
        await EntryAsync("home", 5, LedgerAccounts.TopUpReference("card", "odd"), LedgerAccounts.MerchantAccount("Tea House"), LedgerAccounts.ProgramAccount("card"), 1m);
        await PaymentAsync("p-device", "home", PaymentState.Completed, 2m, funding: "card");
        await ChargeAsync("home", 6, "p-device", 2m);

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 1, check.ToString());
        var violations = check.Json.GetProperty("error").GetProperty("message").GetString()!.Split("; ");
        Assert.Contains("ledger 'home': program 'wallet' went to -1 CNY at entry 4, below its balance", violations);
        Assert.Contains("ledger 'home': top-up entry 5 moves CNY from merchant:Tea House to program:card, not from funding:household to a program", violations);
        Assert.Contains("payment 'p-device' was charged 2 CNY from payer:phone-1 to merchant:Tea House in ledger 'home', not 2 CNY from program:card in 'home'", violations);
        Assert.Equal(3, violations.Length);
    }

    [Fact]
    public async Task Budgets_spent_beyond_their_month_and_a_guardians_approval_without_its_signature_are_named()
    {
        using var tvKey = Signing.NewKey();
        using var aliceKey = Signing.NewKey();
        await DeviceAsync("tv-1", tvKey);
        await DeviceAsync("alice-phone", aliceKey);
        await RulesAsync("home", new BudgetRefill("bob", "CNY", "2026-11", 50m), new BudgetRefill("bob", "CNY", "2026-12", 50m));
        await EntryAsync("home", 1, LedgerAccounts.RefillReference("bob", "CNY", "2026-11"), LedgerAccounts.ProgramAccount("wallet"), LedgerAccounts.BudgetAccount("bob"), 50m);
        await EntryAsync("home", 2, LedgerAccounts.RefillReference("bob", "CNY", "2026-12"), LedgerAccounts.ProgramAccount("wallet"), LedgerAccounts.BudgetAccount("bob"), 80m);
        await StoreAsync("p-budget", Paid("p-budget", 200m, "bob-phone"), budget: true);
        await EntryAsync("home", 3, "p-budget", LedgerAccounts.BudgetAccount("bob"), LedgerAccounts.MerchantAccount("Tea House"), 200m);

        // Bob's request, signed by his TV; Alice's approval kept with a signature over something else.
        var guardian = Paid("p-guardian", 10m, "alice-phone");
        guardian.Input = guardian.Input! with { Signature = tvKey.SignData(Signing.Request(guardian.Input), HashAlgorithmName.SHA256) };
        guardian.AskedBy = new PersonRef("bob", "Bob");
        guardian.Rule = new PaymentRule(RuleCode.OverBudget, "over Bob's budget", null, [new PersonRef("alice", "Alice")]);
        guardian.Approval = new GuardianApproval(new PersonRef("alice", "Alice"), "alice-phone", AuthMethod.Pin, null, s_at, aliceKey.SignData([1, 2, 3], HashAlgorithmName.SHA256));
        await StoreAsync("p-guardian", guardian);
        await EntryAsync("home", 4, "p-guardian", LedgerAccounts.PayerAccount("alice-phone"), LedgerAccounts.MerchantAccount("Tea House"), 10m);
        await EntryAsync("home", 5, "gift", LedgerAccounts.MerchantAccount("Tea House"), LedgerAccounts.BudgetAccount("bob"), 5m);

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 1, check.ToString());
        var violations = check.Json.GetProperty("error").GetProperty("message").GetString()!.Split("; ");
        Assert.Contains("ledger 'home': the refill of bob's budget for 2026-12 (entry 2) filled it to 130 CNY, over that month's budget of 50", violations);
        Assert.Contains("ledger 'home': bob spent beyond their budget: budget:bob went to -70 CNY at entry 3", violations);
        Assert.Contains("payment 'p-guardian': Alice's approval does not carry a valid signature of device 'alice-phone'", violations);
        Assert.Contains("ledger 'home': entry 5 puts 5 CNY into bob's budget, and is neither a refill nor a refund", violations);
        Assert.Contains("ledger 'home' has a charge of 5 CNY for payment 'gift', which does not exist", violations);
        Assert.Equal(5, violations.Length);
    }

    [Fact]
    public async Task Entries_whose_evidence_verifies_pass_and_older_entries_without_evidence_are_counted_as_such()
    {
        using var tv = Signing.NewKey();
        using var phone = Signing.NewKey();
        await DeviceAsync("tv-1", tv);
        await DeviceAsync("phone-1", phone);
        var paid = Payment("tea", 10m, tv, phone);
        paid.Record.Refunds = [new PaymentRefund("r-1", 3m, 3m, s_at, 2)];
        await StoreAsync(paid.Id, paid.Record);
        await EntryAsync("home", 1, paid.Entry(1));
        var refund = Signing.Refund(paid.Id, "tv-1", "r-1", 3m);
        await EntryAsync("home", 2, new LedgerEntry(2, LedgerAccounts.RefundReference(paid.Id, "r-1"), LedgerAccounts.MerchantAccount("Tea House"), LedgerAccounts.PayerAccount("phone-1"), 3m, "CNY", s_at, ChargeEvidence.Of(Signed("tv-1", tv, refund))));
        await EntryAsync("home", 3, new LedgerEntry(3, LedgerAccounts.TopUpReference("wallet", "seed"), LedgerAccounts.FundingAccount, LedgerAccounts.ProgramAccount("wallet"), 50m, "CNY", s_at, ChargeEvidence.TopUp));
        await RulesAsync("home", new BudgetRefill("bob", "CNY", "2026-11", 20m));
        await EntryAsync("home", 4, new LedgerEntry(4, LedgerAccounts.RefillReference("bob", "CNY", "2026-11"), LedgerAccounts.ProgramAccount("wallet"), LedgerAccounts.BudgetAccount("bob"), 20m, "CNY", s_at, ChargeEvidence.Refill));
        await PaymentAsync("p-old", "home", PaymentState.Completed, 5m);
        await ChargeAsync("home", 5, "p-old", 5m);

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 0, check.ToString());
        var evidence = check.Json.GetProperty("evidence");
        Assert.Equal((2, 2, 1), (evidence.GetProperty("signed").GetInt32(), evidence.GetProperty("unsigned").GetInt32(), evidence.GetProperty("none").GetInt32()));
        Assert.Equal(
            ["ledger 'home': entry 5 ('p-old') carries no evidence though entry 1 before it does: a charge of a payment made before the hub was upgraded, or a row written around the hub"],
            check.Json.GetProperty("pending").EnumerateArray().Select(pending => pending.GetString()));
        var text = await CliRunner.RunAsync("ledger", "check", "--data", _data);
        Assert.Contains("evidence: 2 entries signed, 2 moved by the administrator or the rules, 1 stored before entries kept their evidence", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forged_evidence_is_named_entry_by_entry()
    {
        using var tv = Signing.NewKey();
        using var phone = Signing.NewKey();
        using var bobPhone = Signing.NewKey();
        using var attacker = Signing.NewKey();
        await DeviceAsync("tv-1", tv);
        await DeviceAsync("phone-1", phone);
        await DeviceAsync("bob-phone", bobPhone);
        await MembersAsync("home", new HouseholdMember("bob", "Bob", MemberRole.Member, ["tv-1", "bob-phone"]), new HouseholdMember("alice", "Alice", MemberRole.Guardian, ["phone-1"]));
        var ids = new Dictionary<string, string>();
        var sequence = 0L;
        async Task ForgedAsync(string order, PaidPayment paid, Func<ChargeEvidence, ChargeEvidence>? forge = null)
        {
            ids[order] = paid.Id;
            await StoreAsync(paid.Id, paid.Record);
            var entry = paid.Entry(++sequence);
            await EntryAsync("home", sequence, forge is null ? entry : entry with { Evidence = forge(entry.Evidence!) });
        }

        // The approval signed by another key, which the row carries as phone-1's; or phone-1's key, over another's signature.
        await ForgedAsync("key-swap", Payment("key-swap", 10m, tv, attacker, approverKey: Signing.PublicKeyOf(attacker)));
        await ForgedAsync("bad-signature", Payment("bad-signature", 10m, tv, attacker, approverKey: Signing.PublicKeyOf(phone)));

        // The amount changed in the approval after it was signed: to 1 CNY, while the row moves 10.
        var altered = Payment("altered", 10m, tv, phone);
        await ForgedAsync("altered", altered, evidence => evidence with
        {
            Signed = [evidence.Signed[0], evidence.Signed[1] with { Statement = Signing.Approval(altered.Offer with { Info = altered.Offer.Info with { Amount = 1m } }, AuthMethod.Pin) }],
        });

        // Another payment's evidence, all of it valid, under this row.
        var other = Payment("other", 10m, tv, phone);
        await ForgedAsync("stolen", Payment("stolen", 10m, tv, phone), _ => other.Record.Evidence!);

        // A member's request "approved as a guardian" by the asking TV itself, and by Bob's own phone.
        await ForgedAsync("self", Payment("self", 10m, tv, tv, approver: "tv-1", guardianOf: "bob"));
        await ForgedAsync("own-phone", Payment("own-phone", 10m, tv, bobPhone, approver: "bob-phone", guardianOf: "bob"));

        var check = await CliRunner.RunAsync("ledger", "check", "--data", _data, "--json");

        Assert.True(check.ExitCode == 1, check.ToString());
        var violations = check.Json.GetProperty("error").GetProperty("message").GetString()!.Split("; ");
        string Entry(long number, string order) => $"ledger 'home': entry {number} ('{ids[order]}')";
        string[] expected =
        [
            $"{Entry(1, "key-swap")}: the approval was signed with a key that is not device 'phone-1''s registered key",
            $"{Entry(2, "bad-signature")}: the approval of device 'phone-1' does not verify with the key it carries",
            $"{Entry(3, "altered")}: the approval of device 'phone-1' does not verify with the key it carries",
            $"{Entry(3, "altered")}: the approval says 1 CNY, the entry moves 10 CNY",
            $"{Entry(4, "stolen")}: the request is for payment '{other.Id}'",
            $"{Entry(4, "stolen")}: the approval is for payment '{other.Id}'",
            $"{Entry(5, "self")}: the guardian approval is signed by device 'tv-1', which asked for the payment",
            $"{Entry(6, "own-phone")}: the guardian approval is signed by device 'bob-phone', which is Bob's, who asked for the payment",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), violations.Order(StringComparer.Ordinal));
        var text = await CliRunner.RunAsync("ledger", "check", "--data", _data);
        Assert.Contains($"VIOLATION: {expected[0]}", text.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    /// <summary>
    /// A Completed payment as the hub keeps it: tv-1's request for <paramref name="amount"/> CNY at Tea House, signed with
    /// <paramref name="tv"/>, approved on <paramref name="approver"/> (its own account) with a statement signed by
    /// <paramref name="approverSigner"/>; the evidence carries <paramref name="approverKey"/> (default: the signer's own).
    /// With <paramref name="guardianOf"/>, a member's request over a rule, approved as a guardian.
    /// </summary>
    private static PaidPayment Payment(string order, decimal amount, ECDsa tv, ECDsa approverSigner, string approver = "phone-1", byte[]? approverKey = null, string? guardianOf = null)
    {
        var input = new PaymentRequestInput("home", "tv-1", approver, order, new PaymentInfo(amount, "CNY", "Tea House"));
        input = input with { Signature = tv.SignData(Signing.Request(input), HashAlgorithmName.SHA256) };
        var id = PaymentIds.For("home", "tv-1", order);
        var record = new PaymentRecord
        {
            Input = input,
            State = PaymentState.Completed,
            CreatedAt = s_at,
            Deadline = s_at.AddMinutes(2),
            Nonce = "n0nce-" + order,
            Candidates = [approver],
            History = [new PaymentTransition(PaymentState.Displayed, PaymentState.Authorized, s_at, approver, "verified by PIN on payer device")],
            InitiatorKey = Signing.PublicKeyOf(tv),
        };
        if (guardianOf is not null)
        {
            record.AskedBy = new PersonRef(guardianOf, "Bob");
            record.Rule = new PaymentRule(RuleCode.OverBudget, "over Bob's budget", null, [new PersonRef("alice", "Alice")]);
        }

        var offer = record.ToOffer(id, approver);
        var approval = Signing.Approval(offer, AuthMethod.Pin);
        record.Evidence = ChargeEvidence.Of(
            new SignedStatement("tv-1", Signing.Request(input), input.Signature!, Signing.PublicKeyOf(tv)),
            Signed(approver, approverSigner, approval) with { PublicKey = approverKey ?? Signing.PublicKeyOf(approverSigner) });
        return new PaidPayment(id, record, offer);
    }

    private static SignedStatement Signed(string device, ECDsa key, byte[] statement) =>
        new(device, statement, key.SignData(statement, HashAlgorithmName.SHA256), Signing.PublicKeyOf(key));

    private async Task EntryAsync(string household, long sequence, LedgerEntry entry)
    {
        Assert.Equal(sequence, entry.Sequence);
        Assert.Equal(AppendResult.Appended, await _journal.AppendAsync(household, entry, default));
    }

    private Task MembersAsync(string household, params HouseholdMember[] members) => GrainStateAsync("members", household, new MembersRecord { Members = [.. members] });

    private async Task ChargeAsync(string household, long sequence, string paymentId, decimal amount)
    {
        var entry = new LedgerEntry(sequence, paymentId, LedgerAccounts.PayerAccount("phone-1"), LedgerAccounts.MerchantAccount("Tea House"), amount, "CNY", s_at);
        Assert.Equal(AppendResult.Appended, await _journal.AppendAsync(household, entry, default));
    }

    private async Task RefundEntryAsync(string household, long sequence, string paymentId, string key, decimal amount)
    {
        var entry = new LedgerEntry(sequence, LedgerAccounts.RefundReference(paymentId, key), LedgerAccounts.MerchantAccount("Tea House"), LedgerAccounts.PayerAccount("phone-1"), amount, "CNY", s_at);
        Assert.Equal(AppendResult.Appended, await _journal.AppendAsync(household, entry, default));
    }

    private Task PaymentAsync(string paymentId, string household, PaymentState state, decimal amount, params PaymentRefund[] refunds) =>
        PaymentAsync(paymentId, household, state, amount, funding: null, refunds);

    private async Task EntryAsync(string household, long sequence, string reference, string debit, string credit, decimal amount)
    {
        var entry = new LedgerEntry(sequence, reference, debit, credit, amount, "CNY", s_at);
        Assert.Equal(AppendResult.Appended, await _journal.AppendAsync(household, entry, default));
    }

    private Task ProgramsAsync(string household, params PaymentProgram[] programs) => GrainStateAsync("programs", household, new ProgramsRecord { Programs = [.. programs] });

    /// <summary>A completed payment of <paramref name="amount"/> CNY, approved on <paramref name="payer"/>.</summary>
    private static PaymentRecord Paid(string paymentId, decimal amount, string payer) => new()
    {
        Input = new PaymentRequestInput("home", "tv-1", payer, paymentId, new PaymentInfo(amount, "CNY", "Tea House")),
        State = PaymentState.Completed,
        CreatedAt = s_at,
        Deadline = s_at.AddMinutes(2),
        History = [new PaymentTransition(PaymentState.Displayed, PaymentState.Authorized, s_at, payer, "verified by PIN on payer device")],
    };

    private Task StoreAsync(string paymentId, PaymentRecord record, bool budget = false)
    {
        if (budget)
        {
            record.Funding = new ProgramFunding("budget:bob", LedgerAccounts.BudgetAccount("bob"), 0m);
        }

        return GrainStateAsync("payment", paymentId, record);
    }

    private Task DeviceAsync(string deviceId, ECDsa key) => GrainStateAsync("device", deviceId, new DeviceRecord { PublicKey = Signing.PublicKeyOf(key) });

    private Task RulesAsync(string household, params BudgetRefill[] refills) => GrainStateAsync("rules", household, new RulesRecord { Refills = [.. refills] });

    /// <summary>Stores <paramref name="state"/> as the hub stores the grain state <paramref name="kind"/> of <paramref name="key"/>.</summary>
    private Task GrainStateAsync<T>(string kind, string key, T state) => ExecuteAsync(
        """
        INSERT INTO handoff_grain_state (service_id, grain_type, grain_n0, grain_n1, grain_key, payload, version, modified_at)
        VALUES ($service, $kind, 0, 0, $key, $payload, 1, '2026-11-28T12:00:00Z');
        """,
        ("$service", Service), ("$kind", kind), ("$key", key), ("$payload", JsonSerializer.SerializeToUtf8Bytes(state, JsonGrainStateSerializer.Options)));

    private Task PaymentAsync(string paymentId, string household, PaymentState state, decimal amount, string? funding, params PaymentRefund[] refunds)
    {
        var record = new PaymentRecord
        {
            Input = new PaymentRequestInput(household, "tv-1", "phone-1", paymentId, new PaymentInfo(amount, "CNY", "Tea House")),
            State = state,
            CreatedAt = s_at,
            Deadline = s_at.AddMinutes(2),
            Refunds = [.. refunds],
            Funding = funding is null ? null : new ProgramFunding(funding, LedgerAccounts.ProgramAccount(funding), 0m),
        };
        if (state is PaymentState.Completed or PaymentState.Charging)
        {
            // Approved on phone-1: the device that pays, as the record says.
            record.History.Add(new PaymentTransition(PaymentState.Displayed, PaymentState.Authorized, s_at, "phone-1", "verified by PIN on payer device"));
        }

        return GrainStateAsync("payment", paymentId, record);
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

/// <summary>A payment as <c>Payment</c> made it: its id, its record (with its evidence) and the offer its approval signed.</summary>
internal sealed record PaidPayment(string Id, PaymentRecord Record, PaymentOffer Offer)
{
    /// <summary>Its charge, numbered <paramref name="sequence"/>, from the approving device's account, with the record's evidence.</summary>
    public LedgerEntry Entry(long sequence) => new(
        sequence, Id, LedgerAccounts.PayerAccount(Record.Payer!), LedgerAccounts.MerchantAccount("Tea House"), Record.Input!.Info.Amount, "CNY", s_at, Record.Evidence);

    private static readonly DateTimeOffset s_at = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
}
