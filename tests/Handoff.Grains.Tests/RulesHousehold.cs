using Handoff.Contracts;
using Handoff.Silo.Hosting;

namespace Handoff.Grains.Tests;

/// <summary>
/// A household of people: guardians Alice (alice-phone, Silo_1; the family wallet and her card) and Carol (carol-phone,
/// Silo_2; her card), and members Bob (the living-room TV tv-1 and bob-phone, Silo_1) and Dan (tv-2), in Shanghai time.
/// Bob may pay alone up to 200.00 CNY a month from the family wallet, at most 120.00 CNY at a time; Game Shop and
/// games always need a guardian. Dan may spend 50.00 CNY a month and his rules ask no guardian; Casino is not for him.
/// </summary>
public sealed class RulesHousehold : IAsyncLifetime
{
    public const string TimeZone = "Asia/Shanghai";
    public const string DanTv = "tv-2";
    public const decimal BobMonthly = 200m;

    public static readonly PayerDevice AlicePhone = PayerDevice.Create("alice-phone", "Alice's phone", DeviceKind.Phone, "1357");
    public static readonly PayerDevice CarolPhone = PayerDevice.Create("carol-phone", "Carol's phone", DeviceKind.Phone, "2468");
    public static readonly PayerDevice BobPhone = PayerDevice.Create("bob-phone", "Bob's phone", DeviceKind.Phone, "9753");

    public static readonly MemberRules BobRules = new("bob", [new MemberBudget("CNY", BobMonthly, "wallet", Ceiling: 120m)], ["Game Shop"], ["games"]);
    public static readonly MemberRules DanRules = new("dan", [new MemberBudget("CNY", 50m, "wallet")], ["Casino"], [], AskGuardians: false);

    private static readonly Dictionary<string, string> Pins = new() { ["alice-phone"] = "1357", ["carol-phone"] = "2468", ["bob-phone"] = "9753" };

    public HouseholdCluster Household { get; } = new(new() { ["Silo_1"] = [AlicePhone, BobPhone], ["Silo_2"] = [CarolPhone] });

    public static string PinOf(string deviceId) => Pins[deviceId];

    public async Task InitializeAsync()
    {
        await Household.InitializeAsync();
        await Household.PairAsync(HouseholdCluster.Home, DanTv, "Dan's tablet", DeviceKind.Tablet, DeviceRole.Initiator);
        var admin = Household.Client(HouseholdCluster.Home, "admin");
        const string token = HouseholdCluster.AdminToken;
        foreach (var (id, name, role, devices) in new[]
        {
            ("alice", "Alice", MemberRole.Guardian, new[] { AlicePhone.Id }),
            ("carol", "Carol", MemberRole.Guardian, new[] { CarolPhone.Id }),
            ("bob", "Bob", MemberRole.Member, new[] { HouseholdCluster.Tv, BobPhone.Id }),
            ("dan", "Dan", MemberRole.Member, new[] { DanTv }),
        })
        {
            await admin.AddMemberAsync(token, id, name, role);
            foreach (var device in devices)
            {
                await admin.AssignDeviceAsync(token, id, device);
            }
        }

        await admin.AddProgramAsync(token, new PaymentProgram("wallet", AlicePhone.Id, "Family wallet", ProgramKind.Wallet, "CNY", 0m));
        await admin.TopUpProgramAsync(token, "wallet", 1000m, "seed");
        await admin.AddProgramAsync(token, new PaymentProgram("alice-card", AlicePhone.Id, "Alice's card", ProgramKind.Card, "CNY", 1000m));
        await admin.AddProgramAsync(token, new PaymentProgram("carol-card", CarolPhone.Id, "Carol's card", ProgramKind.Card, "CNY", 1000m));
        await admin.SetTimeZoneAsync(token, TimeZone);
        await admin.SetRulesAsync(token, BobRules);
        await admin.SetRulesAsync(token, DanRules);
    }

    public Task DisposeAsync() => Household.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class RulesCollection : ICollectionFixture<RulesHousehold>
{
    public const string Name = "rules";
}
