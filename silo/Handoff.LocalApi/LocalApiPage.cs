using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;

namespace Handoff.LocalApi;

/// <summary>
/// Serves an agent's page from its files, with this launch's token in the page itself
/// (<c>&lt;meta name="handoff-token"&gt;</c>), where the page's scripts read it for every state-changing call.
/// Only a page of this very origin can read it: the guard has refused every foreign Host before this runs.
/// </summary>
public static class LocalApiPage
{
    /// <summary>The empty tag <c>index.html</c> must carry; the token is filled in when the page is served.</summary>
    public const string TokenTag = """<meta name="handoff-token" content="">""";

    private const string IndexFile = "index.html";

    public static void UseLocalApiPage(this WebApplication app, IFileProvider files, string token)
    {
        var page = Encoding.UTF8.GetBytes(WithToken(files, token));
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && request.Path.Value is "/" or "/" + IndexFile)
            {
                // The token makes the page a secret: it keeps the guard's Cache-Control: no-store.
                context.Response.ContentType = "text/html; charset=utf-8";
                context.Response.ContentLength = page.Length;
                if (HttpMethods.IsGet(request.Method))
                {
                    await context.Response.Body.WriteAsync(page, context.RequestAborted);
                }

                return;
            }

            await next(context);
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,

            // The page changes with the agent's build; revalidate rather than run a stale script.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });
    }

    private static string WithToken(IFileProvider files, string token)
    {
        var file = files.GetFileInfo(IndexFile);
        if (!file.Exists)
        {
            throw new InvalidOperationException($"the agent's page has no {IndexFile}");
        }

        using var reader = new StreamReader(file.CreateReadStream(), Encoding.UTF8);
        var html = reader.ReadToEnd();

        // Without the tag the page could not change anything: fail at start rather than serve a page whose buttons are refused.
        return html.Contains(TokenTag, StringComparison.Ordinal)
            ? html.Replace(TokenTag, $"""<meta name="handoff-token" content="{token}">""", StringComparison.Ordinal)
            : throw new InvalidOperationException($"the agent's {IndexFile} lacks {TokenTag}, where its token goes");
    }
}
