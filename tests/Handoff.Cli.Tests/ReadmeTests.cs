using System.Text.RegularExpressions;

namespace Handoff.Cli.Tests;

/// <summary>The README's command table says what <c>--help</c> says: every command and option, and nothing else.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public async Task The_command_table_lists_every_command_and_option_of_the_help_and_nothing_else()
    {
        var rows = Checkout.CommandTable();
        var root = await HelpOfAsync([]);
        var global = root.Options;
        var commands = new Dictionary<string, HashSet<string>> { [string.Empty] = global };
        var queue = new Queue<string>(root.Commands);
        while (queue.TryDequeue(out var path))
        {
            var help = await HelpOfAsync(path.Split(' '));
            commands[path] = [.. help.Options.Except(global)];
            foreach (var sub in help.Commands)
            {
                queue.Enqueue($"{path} {sub}");
            }
        }

        var problems = new List<string>();
        var documented = new HashSet<string>();
        foreach (var row in rows)
        {
            var path = commands.Keys.Where(command => row == "handoff" + (command.Length == 0 ? string.Empty : " " + command)
                    || row.StartsWith("handoff " + command + " ", StringComparison.Ordinal)
                    || (command.Length == 0 && row.StartsWith("handoff [", StringComparison.Ordinal)))
                .MaxBy(command => command.Length);
            if (path is null)
            {
                problems.Add($"README row '{row}' is no command of --help");
                continue;
            }

            documented.Add(path);
            var options = OptionName().Matches(row).Select(match => match.Value).ToHashSet();
            problems.AddRange(options.Except(commands[path]).Select(option => $"README row '{row}': {option} is not an option of 'handoff {path} --help'"));
            problems.AddRange(commands[path].Except(options).Select(option => $"README row of 'handoff {path}' lacks {option}"));
        }

        problems.AddRange(commands.Keys
            .Where(command => !documented.Any(row => row == command || row.StartsWith(command + " ", StringComparison.Ordinal)))
            .Select(command => $"README has no row for 'handoff {command}'"));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    private static async Task<Help> HelpOfAsync(string[] command)
    {
        var result = await CliRunner.RunAsync([.. command, "--help"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var section = string.Empty;
        var options = new HashSet<string>();
        var commands = new List<string>();
        foreach (var line in result.Stdout.Split('\n'))
        {
            if (line.EndsWith(':') && !line.StartsWith(' '))
            {
                section = line;
                continue;
            }

            if (section == "Options:" && HelpOption().Match(line) is { Success: true } option)
            {
                options.Add(option.Groups[1].Value);
            }
            else if (section == "Commands:" && HelpCommand().Match(line) is { Success: true } sub)
            {
                commands.Add(sub.Groups[1].Value);
            }
        }

        return new Help(options, commands);
    }

    private sealed record Help(HashSet<string> Options, List<string> Commands);

    [GeneratedRegex(@"--[a-z][a-z-]*")]
    private static partial Regex OptionName();

    [GeneratedRegex(@"^\s+(?:-\S+, )*(--[a-z][a-z-]*)")]
    private static partial Regex HelpOption();

    [GeneratedRegex(@"^  ([a-z][a-z-]*)")]
    private static partial Regex HelpCommand();
}

/// <summary>The checkout the tests run from: its README and its projects.</summary>
internal static partial class Checkout
{
    public static string Root { get; } = FindRoot();

    public static string Readme => File.ReadAllText(Path.Combine(Root, "README.md"));

    /// <summary>The first cell (inside its backticks) of every row of the README's command table.</summary>
    public static IReadOnlyList<string> CommandTable()
    {
        var lines = Readme.Split('\n');
        var start = Array.FindIndex(lines, line => line.StartsWith("| command | what it does |", StringComparison.Ordinal));
        Assert.True(start >= 0, "README.md has no '| command | what it does |' table");
        return [.. lines.Skip(start + 2)
            .TakeWhile(line => line.StartsWith('|'))
            .Select(line => FirstCell().Match(line))
            .Select(match => match.Success
                ? match.Groups[1].Value.Replace("\\|", "|", StringComparison.Ordinal)
                : throw new InvalidOperationException("a row of the command table does not start with `handoff …`"))];
    }

    /// <summary>The body of the first fenced block of <paramref name="language"/> after the heading <paramref name="heading"/>.</summary>
    public static string Snippet(string heading, string language)
    {
        var readme = Readme;
        var section = readme.IndexOf($"\n{heading}\n", StringComparison.Ordinal);
        Assert.True(section >= 0, $"README.md has no section '{heading}'");
        var open = readme.IndexOf($"```{language}\n", section, StringComparison.Ordinal);
        Assert.True(open >= 0, $"README.md has no {language} block in '{heading}'");
        var body = open + language.Length + 4;
        return readme[body..readme.IndexOf("```", body, StringComparison.Ordinal)];
    }

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Handoff.Orleans.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no Handoff.Orleans.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^\| `(handoff[^`]*)`")]
    private static partial Regex FirstCell();
}
