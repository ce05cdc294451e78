using Handoff.Contracts.Security;

namespace Handoff.Contracts;

/// <summary>What a person is in the household: a guardian decides for the others; a member pays within their rules.</summary>
[GenerateSerializer, Alias("handoff.MemberRole")]
public enum MemberRole
{
    Member = 0,
    Guardian = 1,
}

/// <summary>
/// A person of the household: <paramref name="Id"/> is unique in it, <paramref name="Name"/> is what the pages show
/// ("Bob's phone"), and <paramref name="Devices"/> are the devices that belong to them (each device to one person).
/// </summary>
[GenerateSerializer, Immutable, Alias("handoff.HouseholdMember")]
public sealed record HouseholdMember(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] MemberRole Role,
    [property: Id(3)] IReadOnlyList<string> Devices);

/// <summary>
/// The people of one household (key: household id), their roles and whose each device is. Reading is for the
/// household's devices and its administrator; every change is the administrator's (the hub's admin token).
/// </summary>
[Alias("handoff.IHouseholdMembersGrain")]
public interface IHouseholdMembersGrain : IGrainWithStringKey
{
    /// <summary>The household's members by id, each with their devices (empty for a caller of another household).</summary>
    [Alias("List")]
    Task<IReadOnlyList<HouseholdMember>> ListAsync();

    /// <summary>
    /// Adds a person (admin). The same person again (same name and role) returns them unchanged; the same id with
    /// another name or role is a <c>conflict</c> (change a role with <see cref="SetRoleAsync"/>).
    /// </summary>
    [Alias("Add"), NoSession]
    Task<HouseholdMember> AddAsync(string adminToken, string memberId, string name, MemberRole role);

    /// <summary>Changes a person's role (admin); the household's last guardian stays a guardian.</summary>
    [Alias("SetRole"), NoSession]
    Task<HouseholdMember> SetRoleAsync(string adminToken, string memberId, MemberRole role);

    /// <summary>Gives a device of the household to a person (admin), taking it from whoever had it: a device is one person's.</summary>
    [Alias("Assign"), NoSession]
    Task<HouseholdMember> AssignAsync(string adminToken, string memberId, string deviceId);
}
