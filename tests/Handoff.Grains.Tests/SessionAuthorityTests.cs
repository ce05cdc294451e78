using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Handoff.Contracts;
using Handoff.Grains.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Handoff.Grains.Tests;

/// <summary>The credentials the hub checks on every call, as pure functions of the admin token and the time.</summary>
public sealed class SessionAuthorityTests
{
    private const string Admin = "session-authority-test-token";
    private static readonly GrainId Payment = GrainId.Create("paymentrequest", "pay-0123456789abcdef0123");
    private static readonly GrainId Ledger = GrainId.Create("ledger", "home");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 30, TimeSpan.Zero));

    private SessionAuthority Authority(string admin = Admin) =>
        new(Options.Create(new HandoffOptions { AdminToken = admin }), _time, NullLogger<SessionAuthority>.Instance);

    [Fact]
    public void An_authority_token_is_the_MAC_every_hub_of_the_cluster_computes_for_that_grain_and_minute()
    {
        var token = Authority().AuthorityToken(Payment);

        // The form hubs of earlier versions make and check: MAC of "authority|type/key|" and the minute, big-endian.
        var minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Admin), "handoff session key v1"u8);
        var text = Encoding.UTF8.GetBytes($"authority|{Payment}|");
        var payload = new byte[text.Length + 8];
        text.CopyTo(payload, 0);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(text.Length), minute);
        var mac = System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(key, payload).AsSpan(0, 16));
        Assert.Equal($"{minute}.{mac}", token);
        Assert.True(Authority().IsAuthority(token, Payment));
    }

    [Fact]
    public void An_authority_token_counts_only_for_its_grain_its_hubs_and_a_few_minutes()
    {
        var token = Authority().AuthorityToken(Payment);

        Assert.False(Authority().IsAuthority(token, Ledger));
        Assert.False(Authority("another household's token").IsAuthority(token, Payment));
        Assert.False(Authority().IsAuthority(token[..^2] + "AA", Payment));
        Assert.False(Authority().IsAuthority("29000000.AAAAAAAAAAAAAAAAAAAAAA", Payment));
        Assert.False(Authority().IsAuthority("not a token", Payment));
        Assert.False(Authority().IsAuthority(token + "AAAA", Payment));

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(Authority().IsAuthority(token, Payment));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(Authority().IsAuthority(token, Payment));
    }

    [Fact]
    public void A_session_is_checked_once_and_still_expires_on_time()
    {
        var authority = Authority();
        var grant = authority.Issue("home", "tv-1");

        Assert.Equal(("home", "tv-1"), authority.Verify(grant.Token));
        Assert.Equal(("home", "tv-1"), authority.Verify(grant.Token));
        Assert.Throws<ForbiddenException>(() => Authority("another household's token").Verify(grant.Token));
        Assert.Throws<ForbiddenException>(() => authority.Verify(grant.Token[..^2] + "AA"));

        _time.Advance(authority.Lifetime);
        Assert.Throws<SessionExpiredException>(() => authority.Verify(grant.Token));
    }
}
