using System.CommandLine;
using System.Globalization;
using System.Text;
using Handoff.Contracts;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>
/// <c>handoff members</c>: the household's people, their roles and whose each device is; adding a person, changing a
/// role and giving a device to someone is the hub's, with its admin token.
/// </summary>
internal static class MemberCommands
{
    private static readonly Argument<string> MemberArgument = new("member") { Description = "Member id, e.g. bob" };

    public static Command Create()
    {
        var command = new Command("members", "List the household's people: role (guardian or member) and their devices.");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(Role());
        command.Subcommands.Add(Assign());
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, ClientCommands.CliDevice, cancellation, async (client, output) =>
        {
            var members = (await client.ListMembersAsync()).Select(MemberView.From).ToList();
            return output.Result(members, Render);
        }));
        return command;
    }

    private static Option<MemberRole> RoleOption(string description)
    {
        var role = CliValues.OneOf("--role", description, MemberRole.Member, MemberRole.Member, MemberRole.Guardian);
        role.Required = true;
        return role;
    }

    private static Command Add()
    {
        var name = new Option<string>("--name") { Description = "What the pages show, e.g. Bob", Required = true };
        var role = RoleOption("The person's role (a guardian decides for the others)");
        var command = new Command("add", "Add a person to the household (on the hub); the same person again changes nothing.")
        {
            MemberArgument, name, role, CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var id = DeviceIds.Require(parsed.GetValue(MemberArgument), "member");
            var added = await client.AddMemberAsync(CliOptions.AdminTokenFrom(parsed), id, parsed.GetValue(name)!, parsed.GetValue(role));
            return output.Result(MemberView.From(added), view => $"{view.Id} ({view.Name}) is a {view.Role} of household '{client.HouseholdId}'");
        }));
        return command;
    }

    private static Command Role()
    {
        var role = RoleOption("The new role");
        var command = new Command("role", "Change a person's role (on the hub); the last guardian stays one.")
        {
            MemberArgument, role, CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var id = DeviceIds.Require(parsed.GetValue(MemberArgument), "member");
            var changed = await client.SetMemberRoleAsync(CliOptions.AdminTokenFrom(parsed), id, parsed.GetValue(role));
            return output.Result(MemberView.From(changed), view => $"{view.Id} ({view.Name}) is now a {view.Role}");
        }));
        return command;
    }

    private static Command Assign()
    {
        var device = new Option<string>("--device") { Description = "The device that becomes this person's", Required = true };
        var command = new Command("assign", "Give a device to a person (on the hub), taking it from whoever had it.")
        {
            MemberArgument, device, CliOptions.DataDirectory,
        };
        command.SetAction((parsed, cancellation) => ClientCommands.WithClientAsync(parsed, AdminCommands.AdminDevice, cancellation, async (client, output) =>
        {
            var id = DeviceIds.Require(parsed.GetValue(MemberArgument), "member");
            var deviceId = DeviceIds.Require(parsed.GetValue(device), "device");
            var assigned = await client.AssignDeviceAsync(CliOptions.AdminTokenFrom(parsed), id, deviceId);
            return output.Result(MemberView.From(assigned), view => $"{deviceId} is {view.Name}'s ({view.Id}: {string.Join(", ", view.Devices)})");
        }));
        return command;
    }

    private static string Render(IReadOnlyList<MemberView> members)
    {
        if (members.Count == 0)
        {
            return "no members: add the household's people with 'handoff members add ID --name NAME --role guardian|member'";
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"ID",-16} {"ROLE",-9} {"NAME",-20} DEVICES");
        foreach (var member in members)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{member.Id,-16} {member.Role,-9} {member.Name,-20} {string.Join(", ", member.Devices)}");
        }

        return text.ToString().TrimEnd();
    }
}
