namespace Handoff.Cli.Tests;

/// <summary>The <c>./handoff</c> script of the checkout: it builds only when the CLI's own inputs changed.</summary>
public sealed class WrapperTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_file_generated_under_another_projects_obj_folder_makes_no_rebuild_and_no_message()
    {
        var wrapper = Path.Combine(Checkout.Root, "handoff");

        // Builds once when this checkout has no stamp yet (a fresh clone), quietly otherwise.
        var first = await SdkSnippetTests.RunAsync(wrapper, ["--version"], Checkout.Root, Timeout, null, _ => { });
        Assert.True(first.ExitCode == 0, first.ToString());

        // What a whole-solution build leaves: a generated file under obj/ of a project the CLI does not reference.
        var obj = Directory.CreateDirectory(Path.Combine(Checkout.Root, "ops", "Handoff.Bench", "obj")).FullName;
        var generated = Path.Combine(obj, $"wrapper-test-{Guid.NewGuid():n}.AssemblyInfo.cs");
        await File.WriteAllTextAsync(generated, "// generated");
        try
        {
            var second = await SdkSnippetTests.RunAsync(wrapper, ["--version"], Checkout.Root, Timeout, null, _ => { });

            Assert.True(second.ExitCode == 0, second.ToString());
            Assert.Equal(string.Empty, second.Stderr);
            Assert.Equal(first.Stdout, second.Stdout);
        }
        finally
        {
            File.Delete(generated);
        }
    }
}
