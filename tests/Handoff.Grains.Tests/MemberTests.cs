using Handoff.Contracts;

namespace Handoff.Grains.Tests;

/// <summary>
/// The household's people through the cluster: the administrator adds them, sets their roles and gives each device
/// to one person; the household's devices read them; no device and no neighbour changes or reads another's.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class MemberTests(HouseholdCluster household)
{
    private const string Token = HouseholdCluster.AdminToken;

    /// <summary>The members as the administrator reaches them: with the admin token, and no device session.</summary>
    private IHouseholdMembersGrain Admin(string householdId) => household.Cluster.Client.GetGrain<IHouseholdMembersGrain>(householdId);

    /// <summary>What the administrator reads, under the admin token's session.</summary>
    private Task<IReadOnlyList<HouseholdMember>> ListAsAdminAsync(string householdId) =>
        household.Client(householdId, Households.AdminDevice).AsAdmin(Token).ListMembersAsync();

    [Fact]
    public async Task The_admin_adds_people_and_gives_each_device_to_one_of_them()
    {
        var alice = await Admin(HouseholdCluster.Home).AddAsync(Token, "alice-m", "Alice", MemberRole.Guardian);
        await Admin(HouseholdCluster.Home).AddAsync(Token, "bob-m", "Bob", MemberRole.Member);
        Assert.Equal(alice, await Admin(HouseholdCluster.Home).AddAsync(Token, "alice-m", "Alice", MemberRole.Guardian));
        await Assert.ThrowsAsync<ConflictException>(() => Admin(HouseholdCluster.Home).AddAsync(Token, "alice-m", "Alice", MemberRole.Member));

        await Admin(HouseholdCluster.Home).AssignAsync(Token, "bob-m", HouseholdCluster.Phone2.Id);
        // Not the TV: a member's TV asks under the household's rules, and the other tests of this household pay from tv-1 as nobody's.
        await Admin(HouseholdCluster.Home).AssignAsync(Token, "bob-m", HouseholdCluster.OfflineWatch);
        var moved = await Admin(HouseholdCluster.Home).AssignAsync(Token, "alice-m", HouseholdCluster.Phone2.Id);

        Assert.Equal([HouseholdCluster.Phone2.Id], moved.Devices);
        var seen = await household.Tv1.ListMembersAsync();
        Assert.Equal([HouseholdCluster.Phone2.Id], seen.Single(member => member.Id == "alice-m").Devices);
        Assert.Equal([HouseholdCluster.OfflineWatch], seen.Single(member => member.Id == "bob-m").Devices);
        Assert.Equal(MemberRole.Member, seen.Single(member => member.Id == "bob-m").Role);
    }

    [Fact]
    public async Task A_device_cannot_change_the_members_and_a_neighbour_reads_none_of_them()
    {
        await Admin(HouseholdCluster.Home).AddAsync(Token, "carol-m", "Carol", MemberRole.Member);
        var tv = household.Tv1;

        // The TV, with its own valid session, tries to make its person a guardian and to take a phone: refused.
        await Assert.ThrowsAsync<ForbiddenException>(() => tv.SetMemberRoleAsync("guessed", "carol-m", MemberRole.Guardian));
        await Assert.ThrowsAsync<ForbiddenException>(() => tv.AddMemberAsync(string.Empty, "mallory", "Mallory", MemberRole.Guardian));
        await Assert.ThrowsAsync<ForbiddenException>(() => tv.AssignDeviceAsync("guessed", "carol-m", HouseholdCluster.Phone1.Id));
        var carol = (await tv.ListMembersAsync()).Single(member => member.Id == "carol-m");
        Assert.Equal((MemberRole.Member, 0), (carol.Role, carol.Devices.Count));
        Assert.DoesNotContain(await tv.ListMembersAsync(), member => member.Id == "mallory");

        var neighbour = household.Client(HouseholdCluster.Other, HouseholdCluster.OtherTv);
        Assert.Empty(await neighbour.CallAsync(grains => grains.GetGrain<IHouseholdMembersGrain>(HouseholdCluster.Home).ListAsync()));
    }

    [Fact]
    public async Task The_last_guardian_stays_one_until_another_is_made()
    {
        // The neighbours' household: no other test gives it members, so "last" is this test's to decide.
        var members = Admin(HouseholdCluster.Other);
        await members.AddAsync(Token, "first-g", "First", MemberRole.Guardian);

        var last = await Assert.ThrowsAsync<ConflictException>(() => members.SetRoleAsync(Token, "first-g", MemberRole.Member));
        Assert.Contains("last guardian", last.Message, StringComparison.Ordinal);

        await members.AddAsync(Token, "second-g", "Second", MemberRole.Guardian);
        var changed = await members.SetRoleAsync(Token, "first-g", MemberRole.Member);
        Assert.Equal(MemberRole.Member, changed.Role);
        Assert.Equal(MemberRole.Member, (await ListAsAdminAsync(HouseholdCluster.Other)).Single(member => member.Id == "first-g").Role);
    }

    [Fact]
    public async Task Bad_people_and_other_households_devices_are_refused_naming_what_was_wrong()
    {
        var members = Admin(HouseholdCluster.Home);
        await members.AddAsync(Token, "dave-m", "Dave", MemberRole.Member);

        Assert.Equal("id", (await Assert.ThrowsAsync<ValidationException>(() => members.AddAsync(Token, "not an id", "X", MemberRole.Member))).Field);
        Assert.Equal("name", (await Assert.ThrowsAsync<ValidationException>(() => members.AddAsync(Token, "long-name", new string('n', 65), MemberRole.Member))).Field);
        Assert.Equal("role", (await Assert.ThrowsAsync<ValidationException>(() => members.AddAsync(Token, "odd-role", "Odd", (MemberRole)7))).Field);
        await Assert.ThrowsAsync<NotFoundException>(() => members.AssignAsync(Token, "nobody", HouseholdCluster.Phone1.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => members.AssignAsync(Token, "dave-m", "no-such-device"));

        // phone-x is the neighbours': it cannot become Dave's.
        await Assert.ThrowsAsync<NotFoundException>(() => members.AssignAsync(Token, "dave-m", HouseholdCluster.PhoneX.Id));
        Assert.Empty((await ListAsAdminAsync(HouseholdCluster.Home)).Single(member => member.Id == "dave-m").Devices);
    }
}
