using Handoff.LocalApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.FileProviders;

namespace Handoff.InitiatorAgent;

/// <summary>Serves the checkout page's files, embedded in this assembly from wwwroot/, so the agent needs nothing beside it.</summary>
internal static class PageAssets
{
    /// <summary>The page carries <paramref name="token"/>, this launch's token for the agent's local API.</summary>
    public static void UsePageAssets(this WebApplication app, string token) =>
        app.UseLocalApiPage(new EmbeddedFileProvider(typeof(PageAssets).Assembly, "Handoff.InitiatorAgent.wwwroot"), token);
}
