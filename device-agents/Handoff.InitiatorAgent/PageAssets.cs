using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.FileProviders;

namespace Handoff.InitiatorAgent;

/// <summary>Serves the checkout page's files, embedded in this assembly from wwwroot/, so the agent needs nothing beside it.</summary>
internal static class PageAssets
{
    public static void UsePageAssets(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(PageAssets).Assembly, "Handoff.InitiatorAgent.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,

            // The page changes with the agent's build; revalidate rather than run a stale script.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });
    }
}
