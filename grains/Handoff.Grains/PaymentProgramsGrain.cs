using Handoff.Contracts;
using Handoff.Contracts.Validation;

namespace Handoff.Grains;

/// <summary>Durable definitions of a household's payment programs, and the one each device paid with last.</summary>
[GenerateSerializer, Alias("handoff.ProgramsRecord")]
public sealed class ProgramsRecord
{
    [Id(0)]
    public List<PaymentProgram> Programs { get; set; } = [];

    /// <summary>Program id by device id.</summary>
    [Id(1)]
    public Dictionary<string, string> LastUsed { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The household's payment programs: what they are, which device holds each, and the payer's choice checked for the
/// payment's authority. The money is the ledger's: balances are read from it, top-ups are booked in it.
/// </summary>
public sealed class PaymentProgramsGrain(
    [PersistentState("programs", HandoffOptions.StorageName)] IPersistentState<ProgramsRecord> record,
    AdminToken admin) : Grain, IPaymentProgramsGrain
{
    /// <summary>The most programs a household holds.</summary>
    internal const int MaxPrograms = 64;

    private string HouseholdId => this.GetPrimaryKeyString();

    private ILedgerGrain Ledger => GrainFactory.GetGrain<ILedgerGrain>(HouseholdId);

    public async Task<IReadOnlyList<ProgramStatus>> ListAsync(string? deviceId)
    {
        if (!CallerContext.MayAccess(HouseholdId))
        {
            return [];
        }

        var programs = record.State.Programs.Where(program => deviceId is null || program.DeviceId == deviceId).ToList();
        if (programs.Count == 0)
        {
            return [];
        }

        var balances = (await Ledger.GetSummaryAsync()).Balances;
        return
        [
            .. programs
                .OrderBy(program => program.DeviceId, StringComparer.Ordinal)
                .ThenBy(program => program.Id, StringComparer.Ordinal)
                .Select(program => StatusOf(program, balances)),
        ];
    }

    public async Task<ProgramStatus> AddAsync(string adminToken, PaymentProgram program)
    {
        admin.Require(adminToken);
        ArgumentNullException.ThrowIfNull(program);
        DeviceIds.Require(program.Id, "id");
        DeviceIds.Require(program.DeviceId, "device");
        PaymentRules.RequireText(program.Name, "name", 64);
        if (!Enum.IsDefined(program.Kind))
        {
            throw new ValidationException("kind", $"'{program.Kind}' is not a kind of program: card or wallet", ErrorCodes.WrongType);
        }

        PaymentRules.RequireCurrency(program.Currency, "currency");
        if (program.Limit < 0 || (program.Kind == ProgramKind.Wallet && program.Limit != 0))
        {
            throw new ValidationException("limit", program.Kind == ProgramKind.Wallet ? "a wallet has no credit limit: it spends what was put in" : "a credit limit is 0 or more", ErrorCodes.InvalidAmount);
        }

        PaymentRules.RequireDigits(program.Limit, program.Currency, "limit");
        if (record.State.Programs.FirstOrDefault(known => known.Id == program.Id) is { } known)
        {
            return known == program
                ? StatusOf(known, (await Ledger.GetSummaryAsync()).Balances)
                : throw new ConflictException($"program '{program.Id}' already exists (on device '{known.DeviceId}', {known.Kind}, {known.Currency})");
        }

        if (record.State.Programs.Count >= MaxPrograms)
        {
            throw new ValidationException("id", $"a household holds at most {MaxPrograms} programs", ErrorCodes.LimitExceeded);
        }

        var devices = await GrainFactory.GetGrain<IHouseholdGrain>(HouseholdId).ListDevicesAsync();
        if (devices.FirstOrDefault(device => device.DeviceId == program.DeviceId) is not { } holder)
        {
            throw new NotFoundException($"no device '{program.DeviceId}' in household '{HouseholdId}'");
        }

        if (!holder.Capabilities.CanPay)
        {
            throw new NotCapableException(program.DeviceId, $"device '{program.DeviceId}' is not a payer device: it cannot hold a payment program");
        }

        record.State.Programs.Add(program);
        await record.WriteStateAsync();
        return StatusOf(program, (await Ledger.GetSummaryAsync()).Balances);
    }

    public async Task<ProgramStatus> TopUpAsync(string adminToken, string programId, decimal amount, string key)
    {
        admin.Require(adminToken);
        var program = Find(programId);
        DeviceIds.Require(key, "key");
        if (amount <= 0)
        {
            throw new ValidationException("amount", "a top-up must be positive", ErrorCodes.NonPositiveAmount);
        }

        PaymentRules.RequireDigits(amount, program.Currency, "amount");

        // Booked like a charge, under its own reference: the same key books once, and the same key with another amount is a conflict.
        await Ledger.ChargeAsync(new ChargeRequest(
            LedgerAccounts.TopUpReference(program.Id, key),
            LedgerAccounts.FundingAccount,
            LedgerAccounts.ProgramAccount(program.Id),
            amount,
            program.Currency,
            Evidence: ChargeEvidence.TopUp));
        return StatusOf(program, (await Ledger.GetSummaryAsync()).Balances);
    }

    public async Task RemoveAsync(string adminToken, string programId)
    {
        admin.Require(adminToken);
        var program = Find(programId);
        record.State.Programs.Remove(program);
        if (record.State.LastUsed.GetValueOrDefault(program.DeviceId) == program.Id)
        {
            record.State.LastUsed.Remove(program.DeviceId);
        }

        await record.WriteStateAsync();
    }

    public async Task<ProgramFunding?> ChooseAsync(string deviceId, string? programId, decimal amount, string currency)
    {
        if (programId is null)
        {
            // A device without programs pays from its own account; one with programs names the one it pays with.
            return record.State.Programs.Any(program => program.DeviceId == deviceId)
                ? throw new ValidationException("program", $"device '{deviceId}' has payment programs: the approval must name the one that pays", ErrorCodes.MissingField)
                : null;
        }

        var chosen = record.State.Programs.FirstOrDefault(program => program.Id == programId && program.DeviceId == deviceId)
            ?? throw new NotFoundException($"device '{deviceId}' has no payment program '{programId}'");
        if (chosen.Currency != currency)
        {
            throw new ValidationException("program", $"program '{programId}' pays in {chosen.Currency}, not {currency}", ErrorCodes.InvalidCurrency);
        }

        var left = StatusOf(chosen, (await Ledger.GetSummaryAsync()).Balances).Left;
        if (amount > left)
        {
            throw new InsufficientFundsException(programId, Math.Max(left, 0), currency);
        }

        if (record.State.LastUsed.GetValueOrDefault(deviceId) != programId)
        {
            record.State.LastUsed[deviceId] = programId;
            await record.WriteStateAsync();
        }

        return new ProgramFunding(chosen.Id, LedgerAccounts.ProgramAccount(chosen.Id), chosen.Floor);
    }

    private PaymentProgram Find(string programId)
    {
        DeviceIds.Require(programId, "program");
        return record.State.Programs.FirstOrDefault(program => program.Id == programId)
            ?? throw new NotFoundException($"no payment program '{programId}' in household '{HouseholdId}'");
    }

    private ProgramStatus StatusOf(PaymentProgram program, IReadOnlyDictionary<string, decimal> balances) => new(
        program,
        balances.GetValueOrDefault(LedgerAccounts.BalanceKey(LedgerAccounts.ProgramAccount(program.Id), program.Currency)),
        record.State.LastUsed.GetValueOrDefault(program.DeviceId) == program.Id);
}
