using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Handoff.Web.Tests;

/// <summary>
/// Chromium's virtual WebAuthn authenticator (over CDP) on one page: a platform authenticator (internal transport,
/// CTAP2, resident keys, user verification) standing in for the phone's fingerprint reader.
/// </summary>
public sealed class VirtualAuthenticator
{
    private readonly ICDPSession _cdp;

    private VirtualAuthenticator(ICDPSession cdp, string id)
    {
        _cdp = cdp;
        Id = id;
    }

    public string Id { get; }

    /// <summary>Adds a platform authenticator to <paramref name="page"/>; it verifies the person while <paramref name="userVerified"/>.</summary>
    public static async Task<VirtualAuthenticator> AddAsync(IBrowserContext context, IPage page, bool userVerified = true)
    {
        var cdp = await context.NewCDPSessionAsync(page);
        await cdp.SendAsync("WebAuthn.enable");
        var added = await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = userVerified,
                ["automaticPresenceSimulation"] = true,
            },
        });
        return new VirtualAuthenticator(cdp, added!.Value.GetProperty("authenticatorId").GetString()!);
    }

    /// <summary>From now on the authenticator does (or does not) verify the person.</summary>
    public Task SetUserVerifiedAsync(bool userVerified) =>
        _cdp.SendAsync("WebAuthn.setUserVerified", new Dictionary<string, object> { ["authenticatorId"] = Id, ["isUserVerified"] = userVerified });

    /// <summary>Sets up the fingerprint of <paramref name="deviceName"/> on the payer page, as its person would, and waits until it is registered.</summary>
    public static async Task SetUpOnPageAsync(IPage phone, string deviceId, string deviceName)
    {
        await phone.GetByRole(AriaRole.Button, new() { Name = $"Set up fingerprint for {deviceName}" }).ClickAsync();
        await Expect(phone.Locator("#setup-status")).ToHaveTextAsync($"Fingerprint set up for {deviceName}.");
        await Expect(phone.Locator($"li[data-device={deviceId}] .ready")).ToHaveTextAsync("set up");
    }
}
