using Handoff.Contracts;

namespace Handoff.LocalApi;

/// <summary>
/// The rules every local HTTP server of a household enforces (the hub, the payer agent, the initiator agent),
/// as data: <see cref="LocalApiGuard"/> applies them and nothing else decides them. Any page in a browser on the
/// machine can send requests to these servers; the rules make sure only the server's own page, or a process of
/// the same user that can read the token file, can change anything.
/// </summary>
public static class LocalApiRules
{
    /// <summary>
    /// The names a request's <c>Host</c> may carry (with the server's own port). A DNS-rebinding page reaches the
    /// server under its own name (<c>evil.example</c>), so refusing every other name keeps it out, reads included.
    /// A server bound to a network address also answers to that address's literal, which no DNS can rebind.
    /// </summary>
    public static readonly IReadOnlyList<string> LoopbackHosts = ["127.0.0.1", "localhost", "[::1]"];

    /// <summary>
    /// The <c>Sec-Fetch-Site</c> values (Fetch Metadata, sent by current browsers) a request may carry: this origin's
    /// own page, or the person typing the address. Anything else is another site's page, whose subresource requests
    /// (an <c>&lt;img&gt;</c> pointed at an event stream carries no Origin) are refused; only its plain
    /// navigations (a link, <see cref="NavigationMode"/> with GET or HEAD) are served, as opening the page in a tab.
    /// </summary>
    public static readonly IReadOnlySet<string> OwnFetchSites = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "same-origin", "none" };

    /// <summary>The <c>Sec-Fetch-Mode</c> of a top-level or frame navigation.</summary>
    public const string NavigationMode = "navigate";

    /// <summary>Requests that can change something: they need a same-origin <c>Origin</c> and the token.</summary>
    public static readonly IReadOnlySet<string> StateChangingMethods = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "POST", "PUT", "PATCH", "DELETE",
    };

    /// <summary>
    /// The header carrying the per-launch token. A page of another origin cannot set it on a form post or a
    /// no-cors fetch, and cannot read it from the server's page.
    /// </summary>
    public const string TokenHeader = "X-Handoff-Token";

    /// <summary>Bytes of randomness in a token (sent as base64url).</summary>
    public const int TokenBytes = 32;

    /// <summary>
    /// The only body type a state-changing request may carry: a browser sends it cross-origin only after a CORS
    /// preflight, which these servers never grant.
    /// </summary>
    public const string JsonMediaType = "application/json";

    /// <summary>The largest body a state-changing request may carry (a payment request is well under 4 KiB).</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>Event streams (Server-Sent Events) open at once per server, so that no page can exhaust it.</summary>
    public const int MaxEventStreams = 16;

    /// <summary>What marks an endpoint as an event stream: the content type it declares it produces.</summary>
    public const string EventStreamMediaType = "text/event-stream";

    /// <summary>
    /// Set on every response: no sniffing a JSON answer into a script, no framing of the pages (clickjacking the
    /// Pay button). <c>Cache-Control</c> is the default for responses that set none (the pages' scripts set their own).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ResponseHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["X-Content-Type-Options"] = "nosniff",
        ["X-Frame-Options"] = "DENY",
        ["Content-Security-Policy"] = "frame-ancestors 'none'",
        ["Cache-Control"] = "no-store",
    };

    /// <summary>
    /// Headers no response may carry: CORS would let a page of another origin read the answers. Nothing here
    /// sets them today; the guard strips them so a library mapped later cannot open the door.
    /// </summary>
    public const string CorsHeaderPrefix = "Access-Control-";

    /// <summary>What each refusal answers: the HTTP status and the stable error code of <c>{"error": {"code"}}</c>.</summary>
    public static readonly IReadOnlyDictionary<Refusal, (int Status, string Code)> Answers = new Dictionary<Refusal, (int, string)>
    {
        [Refusal.ForeignHost] = (403, ErrorCodes.Forbidden),
        [Refusal.ForeignOrigin] = (403, ErrorCodes.Forbidden),
        [Refusal.ForeignFetch] = (403, ErrorCodes.Forbidden),
        [Refusal.MissingOrigin] = (403, ErrorCodes.Forbidden),
        [Refusal.BadToken] = (403, ErrorCodes.Forbidden),
        [Refusal.NoChangesHere] = (403, ErrorCodes.Forbidden),
        [Refusal.NotJson] = (415, "unsupported_media_type"),
        [Refusal.TooLarge] = (413, ErrorCodes.PayloadTooLarge),
        [Refusal.TooManyStreams] = (429, "too_many_streams"),
    };
}

/// <summary>Why <see cref="LocalApiGuard"/> refused a request.</summary>
public enum Refusal
{
    /// <summary>The <c>Host</c> is not this server under a loopback name (or its own address) and port.</summary>
    ForeignHost,

    /// <summary>The request carries an <c>Origin</c> other than this server's own.</summary>
    ForeignOrigin,

    /// <summary>A browser says another site's page asked for this, other than by a plain navigation.</summary>
    ForeignFetch,

    /// <summary>A state-changing request without an <c>Origin</c>.</summary>
    MissingOrigin,

    /// <summary>A state-changing request without this launch's token, or with another.</summary>
    BadToken,

    /// <summary>A state-changing request to a server that takes none (the hub's pages only read).</summary>
    NoChangesHere,

    /// <summary>A state-changing request whose body is not JSON.</summary>
    NotJson,

    /// <summary>A body over <see cref="LocalApiRules.MaxBodyBytes"/>.</summary>
    TooLarge,

    /// <summary>One event stream more than <see cref="LocalApiRules.MaxEventStreams"/>.</summary>
    TooManyStreams,
}
