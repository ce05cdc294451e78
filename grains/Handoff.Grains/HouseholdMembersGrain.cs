using Handoff.Contracts;
using Handoff.Contracts.Validation;

namespace Handoff.Grains;

/// <summary>Durable people of a household: who they are, their role, and whose each device is.</summary>
[GenerateSerializer, Alias("handoff.MembersRecord")]
public sealed class MembersRecord
{
    [Id(0)]
    public List<HouseholdMember> Members { get; set; } = [];
}

/// <summary>
/// The household's members. The administrator adds people, sets their roles and gives each device to one person;
/// the household's devices read them (the pages say whose device it is). The rules that use them are the payment
/// authority's, which reads them here.
/// </summary>
public sealed class HouseholdMembersGrain(
    [PersistentState("members", HandoffOptions.StorageName)] IPersistentState<MembersRecord> record,
    AdminToken admin) : Grain, IHouseholdMembersGrain
{
    /// <summary>The most people a household holds.</summary>
    internal const int MaxMembers = 32;

    private string HouseholdId => this.GetPrimaryKeyString();

    public Task<IReadOnlyList<HouseholdMember>> ListAsync() =>
        Task.FromResult<IReadOnlyList<HouseholdMember>>(
            CallerContext.MayAccess(HouseholdId) ? [.. record.State.Members.OrderBy(member => member.Id, StringComparer.Ordinal)] : []);

    public async Task<HouseholdMember> AddAsync(string adminToken, string memberId, string name, MemberRole role)
    {
        admin.Require(adminToken);
        DeviceIds.Require(memberId, "id");
        PaymentRules.RequireText(name, "name", 64);
        RequireRole(role);
        if (Find(memberId) is { } known)
        {
            return known.Name == name && known.Role == role
                ? known
                : throw new ConflictException($"member '{memberId}' already exists ({known.Name}, {Text(known.Role)}); change a role with 'members role'");
        }

        if (record.State.Members.Count >= MaxMembers)
        {
            throw new ValidationException("id", $"a household holds at most {MaxMembers} members", ErrorCodes.LimitExceeded);
        }

        var added = new HouseholdMember(memberId, name, role, []);
        record.State.Members.Add(added);
        await record.WriteStateAsync();
        return added;
    }

    public async Task<HouseholdMember> SetRoleAsync(string adminToken, string memberId, MemberRole role)
    {
        admin.Require(adminToken);
        RequireRole(role);
        var member = Require(memberId);
        if (member.Role == role)
        {
            return member;
        }

        if (member.Role == MemberRole.Guardian && record.State.Members.Count(other => other.Role == MemberRole.Guardian) == 1)
        {
            throw new ConflictException($"'{memberId}' is the household's last guardian: make another member a guardian first");
        }

        return await ReplaceAsync(member, member with { Role = role });
    }

    public async Task<HouseholdMember> AssignAsync(string adminToken, string memberId, string deviceId)
    {
        admin.Require(adminToken);
        var member = Require(memberId);
        DeviceIds.Require(deviceId, "device");
        if (member.Devices.Contains(deviceId))
        {
            return member;
        }

        var devices = await GrainFactory.GetGrain<IHouseholdGrain>(HouseholdId).ListDevicesAsync();
        if (devices.All(device => device.DeviceId != deviceId))
        {
            throw new NotFoundException($"no device '{deviceId}' in household '{HouseholdId}'");
        }

        // A device is one person's: giving it to one takes it from the other, in the same write.
        for (var i = 0; i < record.State.Members.Count; i++)
        {
            if (record.State.Members[i].Devices.Contains(deviceId))
            {
                record.State.Members[i] = record.State.Members[i] with { Devices = [.. record.State.Members[i].Devices.Where(id => id != deviceId)] };
            }
        }

        return await ReplaceAsync(Require(memberId), member with { Devices = [.. member.Devices.Append(deviceId).Order(StringComparer.Ordinal)] });
    }

    private async Task<HouseholdMember> ReplaceAsync(HouseholdMember current, HouseholdMember changed)
    {
        record.State.Members[record.State.Members.IndexOf(current)] = changed;
        await record.WriteStateAsync();
        return changed;
    }

    private HouseholdMember? Find(string memberId) => record.State.Members.FirstOrDefault(member => member.Id == memberId);

    private HouseholdMember Require(string memberId)
    {
        DeviceIds.Require(memberId, "member");
        return Find(memberId) ?? throw new NotFoundException($"no member '{memberId}' in household '{HouseholdId}'");
    }

    private static void RequireRole(MemberRole role)
    {
        if (!Enum.IsDefined(role))
        {
            throw new ValidationException("role", $"'{role}' is not a role: guardian or member", ErrorCodes.WrongType);
        }
    }

    private static string Text(MemberRole role) => role.ToString().ToLowerInvariant();
}
