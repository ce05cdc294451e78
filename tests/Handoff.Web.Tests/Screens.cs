using Microsoft.Playwright;

namespace Handoff.Web.Tests;

/// <summary>
/// Screenshots of the two devices' pages at the key moments of a test: each page alone and the pair side by side,
/// in bin/…/artifacts; with HANDOFF_UPDATE_SCREENSHOTS=1 the pairs are also copied to docs/screenshots for the README.
/// </summary>
public static class Screens
{
    public static string ArtifactsDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    public static string DocsDirectory { get; } = Path.Combine(CliRunner.RepositoryRoot, "docs", "screenshots");

    /// <summary>Captures the TV's and the phone's pages as <c>{moment}-tv.png</c>, <c>{moment}-phone.png</c> and the pair <c>{moment}.png</c>.</summary>
    public static async Task CaptureAsync(IBrowser browser, string moment, IPage tv, IPage phone)
    {
        var tvFile = Path.Combine(ArtifactsDirectory, $"{moment}-tv.png");
        var phoneFile = Path.Combine(ArtifactsDirectory, $"{moment}-phone.png");
        await tv.ScreenshotAsync(new PageScreenshotOptions { Path = tvFile });
        await phone.ScreenshotAsync(new PageScreenshotOptions { Path = phoneFile, FullPage = true });

        // The pair is drawn by the browser itself: both shots on one page, captioned, then captured.
        var pair = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1740, Height = 900 } });
        try
        {
            await pair.SetContentAsync($"""
                <body style="margin:0;background:#d5d9df;font-family:system-ui,sans-serif">
                <div id="pair" style="display:flex;gap:24px;align-items:flex-start;padding:20px;width:max-content">
                  <figure style="margin:0"><img src="{DataUri(tvFile)}" style="display:block;border:1px solid #999"><figcaption style="padding-top:6px">{WebHousehold.TvName}: the initiator agent's page</figcaption></figure>
                  <figure style="margin:0"><img src="{DataUri(phoneFile)}" style="display:block;border:1px solid #999"><figcaption style="padding-top:6px">{WebHousehold.PhoneName}: the payer agent's page</figcaption></figure>
                </div>
                </body>
                """);
            var pairFile = Path.Combine(ArtifactsDirectory, $"{moment}.png");
            await pair.Locator("#pair").ScreenshotAsync(new LocatorScreenshotOptions { Path = pairFile });
            Publish(pairFile);
        }
        finally
        {
            await pair.CloseAsync();
        }
    }

    /// <summary>Captures one page alone, as <c>{moment}.png</c>, and publishes it.</summary>
    public static async Task CaptureAsync(string moment, IPage page)
    {
        var file = Path.Combine(ArtifactsDirectory, $"{moment}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        Publish(file);
    }

    private static void Publish(string file)
    {
        // Only on request: every run's ids and times differ, and a test run should not rewrite the docs.
        if (Environment.GetEnvironmentVariable("HANDOFF_UPDATE_SCREENSHOTS") != "1")
        {
            return;
        }

        Directory.CreateDirectory(DocsDirectory);
        File.Copy(file, Path.Combine(DocsDirectory, Path.GetFileName(file)), overwrite: true);
    }

    private static string DataUri(string pngFile) => "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(pngFile));
}
