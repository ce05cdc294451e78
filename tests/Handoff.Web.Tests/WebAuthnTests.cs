using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Handoff.Web.Tests;

/// <summary>
/// The fingerprint on the phone's page is WebAuthn: a platform credential registered with the household, then an
/// assertion over the very transaction. Chromium's virtual authenticator (over CDP) plays the phone's platform
/// authenticator; the page is opened at http://localhost:PORT, the relying party's origin. Every refusal charges
/// nothing and leaves the payment waiting on the sheet.
/// </summary>
[Collection(WebHouseholdCollection.Name)]
public sealed class WebAuthnTests(WebHousehold household) : IAsyncLifetime
{
    // What the tests run in the page: an assertion the page's own script did not ask for, and a credential it never registered.
    private const string AssertScript = """
        async ({ challenge, credentialId, userVerification }) => {
          const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4)), (c) => c.charCodeAt(0));
          const credential = await navigator.credentials.get({
            publicKey: { challenge: bytes(challenge), rpId: 'localhost', allowCredentials: [{ type: 'public-key', id: bytes(credentialId) }], userVerification },
          });
          return JSON.stringify(credential.toJSON());
        }
        """;

    private const string CreateStrangerScript = """
        async () => {
          const credential = await navigator.credentials.create({
            publicKey: {
              rp: { id: 'localhost', name: 'Handoff' },
              user: { id: crypto.getRandomValues(new Uint8Array(16)), name: 'mallory', displayName: 'Mallory' },
              challenge: crypto.getRandomValues(new Uint8Array(16)),
              pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
              authenticatorSelection: { authenticatorAttachment: 'platform', userVerification: 'required' },
            },
          });
          return credential.toJSON().rawId;
        }
        """;

    private readonly HttpClient _payerApi = WebHousehold.LocalApiClient("payer", household.PayerHttpPort);
    private readonly HttpClient _tvApi = WebHousehold.LocalApiClient("initiator", household.InitiatorHttpPort);
    private IBrowserContext _phoneContext = null!;
    private IBrowserContext _tvContext = null!;
    private VirtualAuthenticator _authenticator = null!;

    private IPage Phone { get; set; } = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(15_000);
        await household.ClearSheetAsync();
        _phoneContext = await household.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 375, Height = 720 },
            IsMobile = true,
            HasTouch = true,
            Locale = "en-US",
        });
        _tvContext = await household.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        Phone = await _phoneContext.NewPageAsync();

        // Each test's phone has a new platform authenticator, and registers it: the household keeps the latest one.
        _authenticator = await VirtualAuthenticator.AddAsync(_phoneContext, Phone);
        await Phone.GotoAsync(household.PayerPageUrl);
        await Expect(Phone.Locator("#connection")).ToHaveTextAsync("connected");
        await VirtualAuthenticator.SetUpOnPageAsync(Phone, "phone-1", WebHousehold.PhoneName);
    }

    public async Task DisposeAsync()
    {
        await _phoneContext.CloseAsync();
        await _tvContext.CloseAsync();
        _payerApi.Dispose();
        _tvApi.Dispose();
    }

    [Fact]
    public async Task The_registered_fingerprint_pays_the_payment_shown_with_one_charge()
    {
        var devices = await household.RunAsync("devices", "--json");
        var phone = devices.Json.EnumerateArray().Single(device => device.GetProperty("id").GetString() == "phone-1");
        Assert.Equal(["pin", "biometric"], phone.GetProperty("capabilities").GetProperty("authMethods").EnumerateArray().Select(method => method.GetString()));
        var charges = await ChargesAsync();

        var tv = await _tvContext.NewPageAsync();
        await tv.GotoAsync(household.InitiatorUrl);
        await tv.GetByRole(AriaRole.Button, new() { Name = "Add Celadon teapot to order" }).ClickAsync();
        await tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("120.00 CNY");
        var paymentId = (await Phone.Locator("#sheet").GetAttributeAsync("data-payment-id"))!;

        await Phone.GetByRole(AriaRole.Button, new() { Name = "Use fingerprint" }).ClickAsync();

        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(tv.Locator("#receipt-title")).ToHaveTextAsync("Paid — thank you");
        var status = await household.RunAsync("status", paymentId, "--json");
        Assert.Equal("Completed", status.Json.GetProperty("state").GetString());
        Assert.Contains(status.Json.GetProperty("history").EnumerateArray(), step => step.GetProperty("cause").GetString() == "verified by biometric on payer device");
        Assert.Equal(charges + 1, await ChargesAsync());
    }

    [Fact]
    public async Task An_authenticator_that_does_not_verify_the_person_charges_nothing()
    {
        var paymentId = await RequestAsync(31.00m);
        await _authenticator.SetUserVerifiedAsync(false);
        var charges = await ChargesAsync();

        // The page asks for user verification: the browser refuses, and nothing reaches the agent.
        await Phone.GetByRole(AriaRole.Button, new() { Name = "Use fingerprint" }).ClickAsync();
        await Expect(Phone.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The fingerprint was not confirmed. Nothing was charged.");

        // Asked without it, the authenticator signs with the UV flag clear: the household refuses that assertion.
        var options = await OptionsAsync(paymentId);
        var unverified = await AssertInPageAsync(options.GetProperty("challenge").GetString()!, CredentialIdOf(options), "discouraged");
        await AssertRefusedAsync(paymentId, unverified);

        Assert.Equal(charges, await ChargesAsync());
        await AssertWaitingAsync(paymentId);
    }

    [Fact]
    public async Task An_assertion_of_a_credential_the_household_never_registered_charges_nothing()
    {
        var paymentId = await RequestAsync(32.00m);
        var options = await OptionsAsync(paymentId);
        var stranger = await Phone.EvaluateAsync<string>(CreateStrangerScript);
        var charges = await ChargesAsync();

        var assertion = await AssertInPageAsync(options.GetProperty("challenge").GetString()!, stranger, "required");
        await AssertRefusedAsync(paymentId, assertion);

        Assert.Equal(charges, await ChargesAsync());
        await AssertWaitingAsync(paymentId);
    }

    [Fact]
    public async Task A_replayed_assertion_charges_nothing_more()
    {
        var first = await RequestAsync(33.00m);
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("33.00 CNY");
        var sent = Phone.WaitForRequestAsync(request => request.Url.EndsWith("/approve-webauthn", StringComparison.Ordinal));
        await Phone.GetByRole(AriaRole.Button, new() { Name = "Use fingerprint" }).ClickAsync();
        var captured = (await sent).PostData!;
        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        var charges = await ChargesAsync();

        // The same assertion again for its own payment: it has ended, nothing more is charged.
        using var again = await PostAssertionAsync(first, captured);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var answer = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("notPending", answer.GetProperty("outcome").GetString());
        Assert.Equal("Completed", answer.GetProperty("payment").GetProperty("state").GetString());

        // And for a second payment: its challenge is another transaction, and the counter has not grown.
        var second = await RequestAsync(33.00m);
        await AssertRefusedAsync(second, captured);

        Assert.Equal(charges, await ChargesAsync());
        await AssertWaitingAsync(second);
    }

    [Fact]
    public async Task An_assertion_over_another_amount_charges_nothing()
    {
        var paymentId = await RequestAsync(120.00m);
        var options = await OptionsAsync(paymentId);
        var statement = options.GetProperty("statement").GetString()!;
        Assert.Equal(options.GetProperty("challenge").GetString(), Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(statement))));

        // The same statement with the amount lowered to 0.01: the authenticator signs it, the authority hashes its own record.
        // Its lines: kind, payment, household, initiator, payer, candidates, amount, ...
        var lines = statement.Split('\n');
        Assert.Equal("7:phone-1", lines[5]);
        Assert.Equal("3:120", lines[6]);
        lines[6] = "4:0.01";
        var cheaper = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
        var charges = await ChargesAsync();

        var assertion = await AssertInPageAsync(cheaper, CredentialIdOf(options), "required");
        await AssertRefusedAsync(paymentId, assertion);

        Assert.Equal(charges, await ChargesAsync());
        await AssertWaitingAsync(paymentId);

        // The person's own approval of the real amount still pays it.
        await Phone.GetByRole(AriaRole.Button, new() { Name = "Use fingerprint" }).ClickAsync();
        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        Assert.Equal(charges + 1, await ChargesAsync());
    }

    /// <summary>Asks, through the TV's JSON API, for a payment on the phone; returns once the phone's page shows it.</summary>
    private async Task<string> RequestAsync(decimal amount)
    {
        using var asked = await _tvApi.PostAsJsonAsync("/api/payments", new { payer = "phone-1", amount, currency = "CNY", merchant = "Tea House" });
        Assert.True(asked.IsSuccessStatusCode, await asked.Content.ReadAsStringAsync());
        var paymentId = (await asked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
        await Expect(Phone.Locator("#sheet")).ToHaveAttributeAsync("data-payment-id", paymentId);
        return paymentId;
    }

    private async Task<JsonElement> OptionsAsync(string paymentId)
    {
        using var response = await _payerApi.PostAsync($"/api/offers/{paymentId}/webauthn-options", content: null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string CredentialIdOf(JsonElement options) => options.GetProperty("allowCredentials")[0].GetProperty("id").GetString()!;

    private Task<string> AssertInPageAsync(string challenge, string credentialId, string userVerification) =>
        Phone.EvaluateAsync<string>(AssertScript, new { challenge, credentialId, userVerification });

    private Task<HttpResponseMessage> PostAssertionAsync(string paymentId, string assertionJson) =>
        _payerApi.PostAsync($"/api/offers/{paymentId}/approve-webauthn", new StringContent(assertionJson, Encoding.UTF8, "application/json"));

    /// <summary>Posts the assertion straight to the agent's API: the household refuses it as forbidden.</summary>
    private async Task AssertRefusedAsync(string paymentId, string assertionJson)
    {
        using var response = await PostAssertionAsync(paymentId, assertionJson);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Conflict, body);
        Assert.Equal("forbidden", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    /// <summary>Still waiting for its person: Displayed at the authority and on the phone's sheet.</summary>
    private async Task AssertWaitingAsync(string paymentId)
    {
        var status = await household.RunAsync("status", paymentId, "--json");
        Assert.Equal("Displayed", status.Json.GetProperty("state").GetString());
        await Expect(Phone.Locator("#sheet")).ToHaveAttributeAsync("data-payment-id", paymentId);
    }

    /// <summary>The charges in the household's ledger, read from the hub's store by <c>handoff ledger check</c>, which must find it clean.</summary>
    private async Task<int> ChargesAsync()
    {
        var check = await household.RunAsync("ledger", "check", "--json");
        Assert.True(check.ExitCode == 0, check.ToString());
        return check.Json.GetProperty("charges").GetInt32();
    }
}
