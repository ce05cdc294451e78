using System.Globalization;

namespace Handoff.Contracts.Security;

/// <summary>
/// The household's WebAuthn relying party: what a payer page's platform credential is scoped to. The rule of which
/// origins count lives here, for the payer agent that states its origin and the hub that checks it.
/// </summary>
public static class WebAuthn
{
    /// <summary>
    /// The relying party id. The payer page is served on loopback, and a browser takes <c>localhost</c> (never an IP
    /// address) as a relying party there, so every payer page is opened at http://localhost:PORT.
    /// </summary>
    public const string RelyingPartyId = "localhost";

    /// <summary>The relying party's name, as a platform authenticator may show it.</summary>
    public const string RelyingPartyName = "Handoff";

    /// <summary>The most bytes of one field of an attestation or assertion the hub reads: far above what a platform authenticator sends.</summary>
    public const int MaxFieldLength = 4096;

    /// <summary>How long the person has for the authenticator's prompt.</summary>
    public static readonly TimeSpan CeremonyTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The origin of a payer page served on <paramref name="port"/> of this machine.</summary>
    public static string OriginFor(int port) => string.Create(CultureInfo.InvariantCulture, $"http://localhost:{port}");

    /// <summary>
    /// True for an origin of the relying party, written exactly as a browser writes it in its client data: http or
    /// https, host <c>localhost</c>, the port only when it is not the scheme's default, and nothing after it.
    /// </summary>
    public static bool IsOrigin(string? origin) =>
        origin is { Length: <= 64 }
        && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.Host == RelyingPartyId
        && string.IsNullOrEmpty(uri.UserInfo)
        && uri.GetLeftPart(UriPartial.Authority) == origin;

    /// <summary>True when every field is present and within <see cref="MaxFieldLength"/>.</summary>
    public static bool Bounded(params byte[]?[] fields) => fields.All(field => field is { Length: > 0 and <= MaxFieldLength });
}
