using System.Text.RegularExpressions;

namespace Handoff.Cli.Tests;

/// <summary>
/// The README's SDK snippet, pasted as it stands into a new console app that references the SDK, builds and
/// runs against a real household: a newcomer's first app. The person's part (the PIN) is done with <c>handoff approve</c>.
/// </summary>
[Collection(HouseholdProcessesCollection.Name)]
public sealed partial class SdkSnippetTests(HouseholdProcesses household) : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);
    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-sdk-snippet-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task The_readme_snippet_builds_in_a_new_console_app_and_completes_a_payment()
    {
        var snippet = Checkout.Snippet("## The SDK", "csharp");
        var app = Directory.CreateDirectory(Path.Combine(_folder, "tv-app")).FullName;
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), snippet);

        // What `dotnet new console` and `dotnet add reference …/Handoff.Sdk.csproj` make.
        var sdk = Path.Combine(Checkout.Root, "device-agents", "Handoff.Sdk", "Handoff.Sdk.csproj");
        await File.WriteAllTextAsync(Path.Combine(app, "tv-app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{sdk}" />
              </ItemGroup>
            </Project>
            """);

        var build = await RunAsync("dotnet", ["build", app, "-c", "Release", "-nologo", "-v", "quiet"], app, BuildTimeout, null, _ => { });
        Assert.True(build.ExitCode == 0, $"the README snippet does not build:\n{build}");

        // As the README says: the key folder by HANDOFF_KEYS; this household's id and gateway the same way.
        var environment = new Dictionary<string, string>
        {
            ["HANDOFF_KEYS"] = household.KeysDirectory,
            ["HANDOFF_HOUSEHOLD"] = household.Household,
            ["HANDOFF_GATEWAY"] = household.Gateway,
        };
        Task<CliResult>? approving = null;
        var run = await RunAsync(
            "dotnet",
            [Path.Combine(app, "bin", "Release", "net10.0", "tv-app.dll")],
            app,
            RunTimeout,
            environment,
            line =>
            {
                if (Waiting().Match(line) is { Success: true } waiting)
                {
                    approving = household.RunAsync("approve", waiting.Groups[1].Value, "--pin", HouseholdProcesses.Pin, "--payer-url", household.PayerUrl);
                }
            });

        Assert.NotNull(approving);
        var approve = await approving;
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd().Split('\n');
        var paymentId = Waiting().Match(Assert.Single(lines, line => Waiting().IsMatch(line))).Groups[1].Value;
        Assert.Contains("payer phone-1: online True", lines);
        Assert.Equal(
            [$"{paymentId}: approve it on phone-1", "Displayed", "Authorized", "Charging", "Completed", $"paid: {paymentId} on phone-1", "refunded 2.50 of 12.50"],
            lines.SkipWhile(line => !Waiting().IsMatch(line)));
    }

    /// <summary>Runs a program to its end (bounded), handing each line of its output to <paramref name="onLine"/> as it comes.</summary>
    internal static Task<CliResult> RunAsync(
        string program,
        string[] args,
        string folder,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment,
        Action<string> onLine)
    {
        var start = BoundedProcess.StartOf(program, args);
        start.WorkingDirectory = folder;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return BoundedProcess.RunAsync(start, timeout, $"'{program} {string.Join(' ', args)}'", onLine);
    }

    [GeneratedRegex(@"^(pay-[0-9a-f]+): approve it on phone-1$")]
    private static partial Regex Waiting();
}
