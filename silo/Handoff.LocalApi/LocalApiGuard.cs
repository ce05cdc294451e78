using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Handoff.LocalApi;

/// <summary>
/// The first middleware of every household process's HTTP server: applies <see cref="LocalApiRules"/> to each
/// request before anything else sees it, and refuses with <c>{"error": {"code", "message"}}</c>.
/// </summary>
public sealed partial class LocalApiGuard
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IReadOnlyList<string> _hosts;
    private readonly byte[]? _token;
    private readonly ILogger _logger;
    private int _streams;

    /// <param name="listenAddress">Where the server listens: a network address is also accepted as a Host.</param>
    /// <param name="token">This launch's token; null for a server that takes no state-changing requests.</param>
    public LocalApiGuard(IPAddress listenAddress, string? token, ILogger<LocalApiGuard> logger)
    {
        var hosts = new List<string>(LocalApiRules.LoopbackHosts);
        if (!IPAddress.IsLoopback(listenAddress) && !listenAddress.Equals(IPAddress.Any) && !listenAddress.Equals(IPAddress.IPv6Any))
        {
            hosts.Add(listenAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{listenAddress}]" : listenAddress.ToString());
        }

        _hosts = hosts;
        _token = token is null ? null : Encoding.UTF8.GetBytes(token);
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var response = context.Response;
        foreach (var (name, value) in LocalApiRules.ResponseHeaders)
        {
            response.Headers[name] = value;
        }

        response.OnStarting(StripCors, response);
        if (Check(context) is { } refused)
        {
            await RefuseAsync(context, refused.Reason, refused.Message);
            return;
        }

        var request = context.Request;
        if (LocalApiRules.StateChangingMethods.Contains(request.Method) && HasBody(context))
        {
            if (!await BufferBodyAsync(context))
            {
                await RefuseAsync(context, Refusal.TooLarge, $"the body is over {LocalApiRules.MaxBodyBytes} bytes");
                return;
            }
        }

        if (!IsEventStream(context))
        {
            await next(context);
            return;
        }

        if (Interlocked.Increment(ref _streams) > LocalApiRules.MaxEventStreams)
        {
            Interlocked.Decrement(ref _streams);
            await RefuseAsync(context, Refusal.TooManyStreams, $"{LocalApiRules.MaxEventStreams} event streams are open already; close one first");
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            Interlocked.Decrement(ref _streams);
        }
    }

    private (Refusal Reason, string Message)? Check(HttpContext context)
    {
        var request = context.Request;
        var port = context.Connection.LocalPort;
        var host = request.Host;
        if (!host.HasValue || (host.Port ?? 80) != port || !_hosts.Contains(host.Host, StringComparer.OrdinalIgnoreCase))
        {
            return (Refusal.ForeignHost, $"this server answers only to {string.Join(", ", _hosts.Select(name => $"{name}:{port}"))}");
        }

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        var navigation = (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && string.Equals(request.Headers["Sec-Fetch-Mode"].ToString(), LocalApiRules.NavigationMode, StringComparison.OrdinalIgnoreCase);
        if (site.Length > 0 && !LocalApiRules.OwnFetchSites.Contains(site) && !navigation)
        {
            return (Refusal.ForeignFetch, $"a {site} page's request is not served here; open this server's own page");
        }

        // A browser sends Origin with every cross-origin request it lets a page make, reads included (fetch, EventSource).
        var origin = request.Headers.Origin.ToString();
        var changes = LocalApiRules.StateChangingMethods.Contains(request.Method);
        if (origin.Length > 0 && !IsOwnOrigin(origin, port))
        {
            return (Refusal.ForeignOrigin, $"requests from {origin} are not served here");
        }

        if (!changes)
        {
            return null;
        }

        if (_token is null)
        {
            return (Refusal.NoChangesHere, "this server takes no state-changing requests");
        }

        if (origin.Length == 0)
        {
            return (Refusal.MissingOrigin, $"a {request.Method} needs this server's own Origin header");
        }

        var given = request.Headers[LocalApiRules.TokenHeader].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token))
        {
            return (Refusal.BadToken, $"a {request.Method} needs this launch's token in {LocalApiRules.TokenHeader}");
        }

        if (HasBody(context) && !IsJson(request.ContentType))
        {
            return (Refusal.NotJson, $"the body must be {LocalApiRules.JsonMediaType}");
        }

        return request.ContentLength > LocalApiRules.MaxBodyBytes
            ? (Refusal.TooLarge, $"the body is over {LocalApiRules.MaxBodyBytes} bytes")
            : null;
    }

    // A browser leaves the default port out of an Origin, as out of a URL.
    private bool IsOwnOrigin(string origin, int port) => _hosts.Any(host =>
        string.Equals(origin, $"http://{host}:{port}", StringComparison.OrdinalIgnoreCase)
        || (port == 80 && string.Equals(origin, $"http://{host}", StringComparison.OrdinalIgnoreCase)));

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && string.Equals(parsed.MediaType.Value, LocalApiRules.JsonMediaType, StringComparison.OrdinalIgnoreCase);

    private static bool IsEventStream(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>()
            .Any(produces => produces.ContentTypes.Contains(LocalApiRules.EventStreamMediaType, StringComparer.OrdinalIgnoreCase)) == true;

    /// <summary>
    /// Reads the whole body (at most one byte over the limit) so that a chunked body, whose length no header
    /// tells, is held to the limit as well; the endpoint then reads it from memory.
    /// </summary>
    private static async Task<bool> BufferBodyAsync(HttpContext context)
    {
        var buffer = new byte[LocalApiRules.MaxBodyBytes + 1];
        var read = 0;
        try
        {
            int count;
            while (read < buffer.Length && (count = await context.Request.Body.ReadAsync(buffer.AsMemory(read), context.RequestAborted)) > 0)
            {
                read += count;
            }
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false;
        }

        if (read > LocalApiRules.MaxBodyBytes)
        {
            return false;
        }

        context.Request.Body = new MemoryStream(buffer, 0, read, writable: false);
        return true;
    }

    private async Task RefuseAsync(HttpContext context, Refusal reason, string message)
    {
        LogRefused(_logger, context.Request.Method, context.Request.Path, reason);
        var (status, code) = LocalApiRules.Answers[reason];
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new ErrorBody(new ErrorBodyDetail(code, message)), Json);
    }

    private static Task StripCors(object state)
    {
        var headers = ((HttpResponse)state).Headers;
        foreach (var name in headers.Keys.Where(name => name.StartsWith(LocalApiRules.CorsHeaderPrefix, StringComparison.OrdinalIgnoreCase)).ToList())
        {
            headers.Remove(name);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, Refusal reason);

    private sealed record ErrorBody(ErrorBodyDetail Error);

    private sealed record ErrorBodyDetail(string Code, string Message);
}

/// <summary>Puts <see cref="LocalApiGuard"/> first in a host's pipeline.</summary>
public static class LocalApiGuardExtensions
{
    /// <summary>
    /// Guards every request of <paramref name="app"/>. Call it right after <c>Build()</c>, before anything that
    /// answers (pages, static files, endpoints), so that no request is served unchecked.
    /// </summary>
    /// <param name="token">This launch's token (<see cref="LocalApiToken.Issue"/>); null when the server takes no changes.</param>
    public static void UseLocalApiGuard(this WebApplication app, IPAddress listenAddress, string? token)
    {
        var guard = new LocalApiGuard(listenAddress, token, app.Services.GetRequiredService<ILogger<LocalApiGuard>>());
        app.Use(guard.InvokeAsync);
    }
}
