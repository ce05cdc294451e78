using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Handoff.Web.Tests;

/// <summary>The devices' pages in a browser, against a real household: the TV's shop and the phone's payment sheet side by side.</summary>
[Collection(WebHouseholdCollection.Name)]
public sealed class WebHandoffTests(WebHousehold household) : IAsyncLifetime
{
    private IBrowserContext _tvContext = null!;
    private IBrowserContext _phoneContext = null!;

    private IPage Tv { get; set; } = null!;

    private IPage Phone { get; set; } = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(15_000);
        await household.ClearSheetAsync();
        _tvContext = await household.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 720 },
            Locale = "en-US",
        });
        _phoneContext = await household.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 375, Height = 720 },
            IsMobile = true,
            HasTouch = true,
            Locale = "en-US",
        });
        Tv = await _tvContext.NewPageAsync();
        Phone = await _phoneContext.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        await _tvContext.CloseAsync();
        await _phoneContext.CloseAsync();
    }

    [Fact]
    public async Task A_handoff_completes_by_clicking_on_the_tv_and_typing_the_pin_on_the_phone()
    {
        await OpenBothAsync();
        await AddAsync("Jasmine green tea", times: 2);
        await AddAsync("Celadon teapot");
        await Expect(Tv.Locator("#total")).ToHaveTextAsync("176.00 CNY");
        await Expect(Tv.Locator("input[name=payer][value=phone-1]")).ToBeCheckedAsync();

        await Tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();

        // The sheet arrives on the phone by push, with what the TV asked for.
        await Expect(Phone.Locator("#sheet")).ToBeVisibleAsync();
        await Expect(Phone.Locator("#merchant")).ToHaveTextAsync("Tea House");
        await Expect(Phone.Locator("#description")).ToHaveTextAsync("2 × Jasmine green tea, 1 × Celadon teapot");
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("176.00 CNY");
        await Expect(Phone.Locator("#asked-by")).ToHaveTextAsync($"{WebHousehold.TvName} asks you to pay");
        await Expect(Phone.Locator("#countdown")).ToHaveTextAsync(new Regex(@"^[12]:\d\d$"));
        await Expect(Phone.Locator("#announcer")).ToContainTextAsync($"Payment request from {WebHousehold.TvName}");
        await Expect(Tv.Locator("li[data-step=shown]")).ToHaveAttributeAsync("data-done", "true");
        await Expect(Tv.Locator("#progress-status")).ToHaveTextAsync($"Shown on {WebHousehold.PhoneName}. Waiting for the PIN there…");
        var paymentId = await Phone.Locator("#sheet").GetAttributeAsync("data-payment-id");

        // Both screens show the same match code, each computed from the transaction it holds.
        await Expect(Tv.Locator("#match-code")).ToHaveTextAsync(new Regex(@"^\d{3} \d{3}$"));
        var code = await Tv.Locator("#match-code").TextContentAsync();
        await Expect(Phone.Locator("#match-code")).ToHaveTextAsync(code!);
        var shown = await household.RunAsync("status", paymentId!, "--json");
        Assert.Equal(code, shown.Json.GetProperty("matchCode").GetString());
        await Screens.CaptureAsync(household.Browser, "1-sheet-shown", Tv, Phone);

        // Keyboard only: the PIN field has the focus, digits and Enter pay.
        var pin = Phone.GetByLabel("Enter your PIN to pay");
        await Expect(pin).ToBeFocusedAsync();
        await Phone.Keyboard.TypeAsync(WebHousehold.Pin);
        await Phone.Keyboard.PressAsync("Enter");

        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(Phone.Locator("#result-detail")).ToHaveTextAsync("176.00 CNY paid to Tea House.");
        await Expect(Tv.Locator("#receipt-title")).ToHaveTextAsync("Paid — thank you");
        await Expect(Tv.Locator("#receipt-total")).ToHaveTextAsync("176.00 CNY");
        await Expect(Tv.Locator("#receipt-payer")).ToHaveTextAsync(WebHousehold.PhoneName);
        await Expect(Tv.Locator("#receipt-id")).ToHaveTextAsync(paymentId!);
        await Screens.CaptureAsync(household.Browser, "2-paid", Tv, Phone);

        // Every step was pushed to the TV and recorded by the authority.
        var status = await household.RunAsync("status", paymentId!, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("Completed", status.Json.GetProperty("state").GetString());
        Assert.Equal(176m, status.Json.GetProperty("amount").GetDecimal());

        // The hub's page lists the devices with presence and the payment with its state.
        var hub = await _tvContext.NewPageAsync();
        await hub.GotoAsync(household.HubUrl);
        await Expect(hub.Locator("tr[data-device=phone-1] .presence")).ToHaveTextAsync("online");
        await Expect(hub.Locator("tr[data-device=tv-1] .presence")).ToHaveTextAsync("online");
        await Expect(hub.Locator($"tr[data-payment={paymentId}] .state")).ToHaveTextAsync("Completed");
        await Screens.CaptureAsync("6-hub", hub);
    }

    [Fact]
    public async Task A_wrong_pin_shows_the_tries_left_and_the_right_pin_then_pays()
    {
        await Tv.GotoAsync(household.InitiatorUrl);
        await AddAsync("Tieguanyin oolong");
        await Tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();
        await Expect(Tv.Locator("li[data-step=shown]")).ToHaveAttributeAsync("data-done", "true");

        // Opened after the offer was pushed: the page gets what is already on screen first.
        await Phone.GotoAsync(household.PayerUrl);
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("36.50 CNY");

        await PressPadAsync("0000");
        await Phone.GetByRole(AriaRole.Button, new() { Name = "Pay 36.50 CNY" }).ClickAsync();
        await Expect(Phone.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong PIN. 2 tries left.");
        await Expect(Phone.GetByLabel("Enter your PIN to pay")).ToHaveValueAsync(string.Empty);
        await Expect(Tv.Locator("#progress-status")).ToHaveTextAsync($"Shown on {WebHousehold.PhoneName}. Waiting for the PIN there…");
        await Screens.CaptureAsync(household.Browser, "3-wrong-pin", Tv, Phone);

        await PressPadAsync(WebHousehold.Pin);
        await Phone.GetByRole(AriaRole.Button, new() { Name = "Pay 36.50 CNY" }).ClickAsync();

        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(Tv.Locator("#receipt-title")).ToHaveTextAsync("Paid — thank you");
        await Expect(Tv.Locator("li[data-step=verified]")).ToHaveAttributeAsync("data-done", "true");
    }

    [Fact]
    public async Task Cancelling_on_the_tv_while_the_sheet_is_shown_closes_it_on_the_phone()
    {
        await OpenBothAsync();
        await AddAsync("Mooncake gift box");
        await Tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("88.00 CNY");

        await Tv.GetByRole(AriaRole.Button, new() { Name = "Cancel payment" }).ClickAsync();

        await Expect(Tv.Locator("#failure-title")).ToHaveTextAsync("Cancelled");
        await Expect(Tv.Locator("#failure-detail")).ToHaveTextAsync("You cancelled the payment. Nothing was charged.");
        await Expect(Phone.Locator("#sheet")).ToBeHiddenAsync();
        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Cancelled on the other device");
        await Expect(Phone.Locator("#result-detail")).ToHaveTextAsync($"{WebHousehold.TvName} withdrew the request. Nothing was charged.");
        await Expect(Phone.Locator("#announcer")).ToContainTextAsync("Cancelled on the other device");
        await Screens.CaptureAsync(household.Browser, "4-cancelled-on-tv", Tv, Phone);
    }

    [Fact]
    public async Task The_fingerprint_button_pays_with_the_registered_platform_credential_and_no_pin()
    {
        // The phone's fingerprint is WebAuthn: its page is opened at localhost, where the platform authenticator answers.
        await VirtualAuthenticator.AddAsync(_phoneContext, Phone);
        await Tv.GotoAsync(household.InitiatorUrl);
        await Phone.GotoAsync(household.PayerPageUrl);
        await Expect(Phone.Locator("#connection")).ToHaveTextAsync("connected");
        await VirtualAuthenticator.SetUpOnPageAsync(Phone, "phone-1", WebHousehold.PhoneName);
        await AddAsync("Celadon teapot");
        await Tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("120.00 CNY");

        await Phone.GetByRole(AriaRole.Button, new() { Name = "Use fingerprint" }).ClickAsync();

        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(Tv.Locator("#receipt-title")).ToHaveTextAsync("Paid — thank you");
        await Expect(Tv.Locator("li[data-step=verified]")).ToHaveAttributeAsync("data-done", "true");
    }

    [Fact]
    public async Task Declining_on_the_phone_shows_declined_on_both_devices()
    {
        await OpenBothAsync();
        await AddAsync("Jasmine green tea");
        await Tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();
        await Expect(Phone.Locator("#total")).ToHaveTextAsync("28.00 CNY");

        await Phone.GetByRole(AriaRole.Button, new() { Name = "Decline" }).ClickAsync();

        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Declined");
        await Expect(Tv.Locator("#failure-title")).ToHaveTextAsync($"Declined on {WebHousehold.PhoneName}");
        await Expect(Tv.Locator("#failure-detail")).ToHaveTextAsync("Declined on payer device. Nothing was charged.");
        await Expect(Tv.Locator("li[data-step=verified]")).ToHaveAttributeAsync("data-failed", "true");
    }

    [Fact]
    public async Task A_payer_whose_agent_stopped_is_shown_offline_and_cannot_be_picked()
    {
        var bobPort = LoopbackPorts.Reserve();
        await using var bob = await household.StartPayerAsync("phone-2", "Bob's phone", bobPort);
        await household.WaitForAsync(() => household.IsOnlineAsync("phone-2"), "phone-2 to be online");
        await OpenBothAsync();
        await AddAsync("Celadon teapot");
        var bobsRadio = Tv.Locator("input[name=payer][value=phone-2]");
        await Expect(bobsRadio).ToBeEnabledAsync();
        await bobsRadio.CheckAsync();

        // Bob's phone quits while the TV still lists it as online.
        await bob.StopAsync();
        await household.WaitForAsync(async () => !await household.IsOnlineAsync("phone-2"), "phone-2 to be offline");
        await Tv.GetByRole(AriaRole.Button, new() { Name = "Pay on Bob's phone" }).ClickAsync();

        await Expect(Tv.Locator("#order-error")).ToHaveTextAsync(
            "Bob's phone is offline: no running payer agent has it. Choose another device, or try again when it is back.");
        await Expect(bobsRadio).ToBeDisabledAsync();
        await Expect(Tv.Locator("label.payer", new() { Has = bobsRadio }).Locator(".badge")).ToHaveTextAsync("offline");
        await Expect(Tv.Locator("input[name=payer][value=phone-1]")).ToBeCheckedAsync();
        await Expect(Tv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" })).ToBeEnabledAsync();
        await Expect(Phone.Locator("#idle")).ToBeVisibleAsync();
        await Screens.CaptureAsync(household.Browser, "5-payer-offline", Tv, Phone);
    }

    [Fact]
    public async Task Offered_to_any_device_both_phones_show_it_one_pays_the_other_says_where_and_the_tv_refunds()
    {
        var carolPort = LoopbackPorts.Reserve();
        await using var carol = await household.StartPayerAsync("phone-3", "Carol's phone", carolPort);
        await household.WaitForAsync(() => household.IsOnlineAsync("phone-3"), "phone-3 to be online");
        var carolsPhone = await _phoneContext.NewPageAsync();
        await carolsPhone.GotoAsync($"http://127.0.0.1:{carolPort}/");
        await Expect(carolsPhone.Locator("#connection")).ToHaveTextAsync("connected");
        await OpenBothAsync();
        await AddAsync("Celadon teapot");

        var any = Tv.Locator("input[name=payer][value=any]");
        await Expect(Tv.Locator("label.payer.any")).ToContainTextAsync("Any of my devices (2 online)");
        await any.CheckAsync();
        await Tv.GetByRole(AriaRole.Button, new() { Name = "Pay on any of your devices" }).ClickAsync();

        // Both phones show the same sheet, with the same match code as the TV.
        await Expect(Phone.Locator("#sheet")).ToBeVisibleAsync();
        await Expect(carolsPhone.Locator("#sheet")).ToBeVisibleAsync();
        await Expect(Tv.Locator("#match-code")).ToHaveTextAsync(new Regex(@"^\d{3} \d{3}$"));
        var code = await Tv.Locator("#match-code").TextContentAsync();
        await Expect(Phone.Locator("#match-code")).ToHaveTextAsync(code!);
        await Expect(carolsPhone.Locator("#match-code")).ToHaveTextAsync(code!);
        var paymentId = await Phone.Locator("#sheet").GetAttributeAsync("data-payment-id");

        await Phone.GetByLabel("Enter your PIN to pay").FillAsync(WebHousehold.Pin);
        await Phone.Keyboard.PressAsync("Enter");

        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(carolsPhone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(carolsPhone.Locator("#result-detail")).ToHaveTextAsync("Paid on phone-1: 120.00 CNY to Tea House. Nothing to do here.");
        await Expect(Tv.Locator("#receipt-payer")).ToHaveTextAsync(WebHousehold.PhoneName);
        await Screens.CaptureAsync(household.Browser, "7-paid-on-another-phone", Tv, carolsPhone);

        // The shop is the merchant's app: it refunds the order, and its receipt shows what went back.
        await Tv.GetByRole(AriaRole.Button, new() { Name = "Refund this order" }).ClickAsync();
        await Expect(Tv.Locator("#refund-status")).ToHaveTextAsync($"Refunded 120.00 CNY to {WebHousehold.PhoneName}.");
        await Expect(Tv.Locator("#receipt-refunded")).ToHaveTextAsync("120.00 CNY of 120.00 CNY");
        await Expect(Tv.GetByRole(AriaRole.Button, new() { Name = "Refund this order" })).ToBeHiddenAsync();

        var status = await household.RunAsync("status", paymentId!, "--json");
        Assert.Equal("phone-1", status.Json.GetProperty("payer").GetString());
        Assert.Equal(["phone-1", "phone-3"], status.Json.GetProperty("payers").EnumerateArray().Select(payer => payer.GetString()));
        Assert.Equal(120m, status.Json.GetProperty("refunded").GetDecimal());
        Assert.Equal("Completed", status.Json.GetProperty("state").GetString());

        // The hub's page keeps the payment Completed and says what went back.
        var hub = await _tvContext.NewPageAsync();
        await hub.GotoAsync(household.HubUrl);
        await Expect(hub.Locator($"tr[data-payment={paymentId}] .state")).ToHaveTextAsync("Completed");
        await Expect(hub.Locator($"tr[data-payment={paymentId}] .refunded")).ToHaveTextAsync("refunded 120.00 CNY");
        await carol.StopAsync();
    }

    [Fact]
    public async Task A_request_nobody_verifies_expires_on_the_phone_at_its_deadline()
    {
        await Phone.GotoAsync(household.PayerUrl);
        await Expect(Phone.Locator("#connection")).ToHaveTextAsync("connected");

        // The shortest deadline the household allows, asked through the TV's JSON API (its page always uses the default).
        using var tvApi = WebHousehold.LocalApiClient("initiator", household.InitiatorHttpPort);
        using var asked = await tvApi.PostAsJsonAsync("/api/payments", new
        {
            payer = "phone-1", amount = 9.90m, currency = "CNY", merchant = "Tea House", description = "1 × Jasmine green tea", expiresInSeconds = 5,
        });
        Assert.True(asked.IsSuccessStatusCode, await asked.Content.ReadAsStringAsync());
        var paymentId = (await asked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;

        await Expect(Phone.Locator("#countdown")).ToHaveTextAsync(new Regex(@"^0:0[1-5]$"));
        await Expect(Phone.Locator(".countdown")).ToHaveClassAsync(new Regex("soon"));
        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Expired");
        await Expect(Phone.Locator("#result-detail")).ToHaveTextAsync("The request ran out of time. Nothing was charged.");
        await household.WaitForAsync(
            async () => (await household.RunAsync("status", paymentId, "--json")).Json.GetProperty("state").GetString() == "Expired",
            $"payment {paymentId} to expire");
    }

    [Fact]
    public async Task The_sheet_lists_the_programs_refuses_one_with_too_little_and_pays_with_the_other()
    {
        var danPort = LoopbackPorts.Reserve();
        await using var dan = await household.StartPayerAsync("phone-4", "Dan's phone", danPort);
        await household.WaitForAsync(() => household.IsOnlineAsync("phone-4"), "phone-4 to be online");
        foreach (var args in new[]
        {
            new[] { "programs", "add", "--id", "dan-wallet", "--device", "phone-4", "--name", "Dan's wallet", "--kind", "wallet", "--currency", "CNY" },
            ["programs", "add", "--id", "dan-card", "--device", "phone-4", "--name", "Dan's card", "--kind", "card", "--currency", "CNY", "--limit", "500.00"],
            ["programs", "top-up", "dan-wallet", "--amount", "50.00", "--key", "seed"],
        })
        {
            var done = await household.RunAsync(args);
            Assert.True(done.ExitCode == 0, done.ToString());
        }

        var dansPhone = await _phoneContext.NewPageAsync();
        await dansPhone.GotoAsync($"http://127.0.0.1:{danPort}/");
        await Expect(dansPhone.Locator("#connection")).ToHaveTextAsync("connected");
        await OpenBothAsync();
        await AddAsync("Celadon teapot");
        await Tv.Locator("input[name=payer][value=phone-4]").CheckAsync();
        await Tv.GetByRole(AriaRole.Button, new() { Name = "Pay on Dan's phone" }).ClickAsync();

        // Both programs, with what is left; never used yet, so the first (the card) is preselected.
        var picker = dansPhone.GetByRole(AriaRole.Group, new() { Name = "Pay with" });
        await Expect(picker).ToBeVisibleAsync();
        await Expect(picker.Locator("label")).ToHaveCountAsync(2);
        await Expect(picker.Locator("label[data-program=dan-wallet]")).ToContainTextAsync("50.00 CNY left");
        await Expect(picker.Locator("label[data-program=dan-card]")).ToContainTextAsync("500.00 CNY left");
        await Expect(picker.GetByLabel("Dan's card (card)")).ToBeCheckedAsync();

        // The wallet holds 50.00 of the 120.00: refused, nothing charged, the sheet stays for another choice.
        await picker.GetByLabel("Dan's wallet (wallet)").CheckAsync();
        await dansPhone.GetByLabel("Enter your PIN to pay").FillAsync(WebHousehold.Pin);
        await dansPhone.Keyboard.PressAsync("Enter");
        await Expect(dansPhone.Locator("#pin-error")).ToHaveTextAsync("Not enough left in Dan's wallet (wallet). Choose another way to pay.");
        await Expect(dansPhone.Locator("#sheet")).ToBeVisibleAsync();
        await Screens.CaptureAsync(household.Browser, "9-program-picker", Tv, dansPhone);

        await picker.GetByLabel("Dan's card (card)").CheckAsync();
        await dansPhone.GetByLabel("Enter your PIN to pay").FillAsync(WebHousehold.Pin);
        await dansPhone.Keyboard.PressAsync("Enter");
        await Expect(dansPhone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(Tv.Locator("#receipt-payer")).ToHaveTextAsync("Dan's phone");

        var programs = await household.RunAsync("programs", "--device", "phone-4", "--json");
        Assert.True(programs.ExitCode == 0, programs.ToString());
        var balances = programs.Json.EnumerateArray().ToDictionary(program => program.GetProperty("id").GetString()!, program => program.GetProperty("balance").GetDecimal());
        Assert.Equal(50m, balances["dan-wallet"]);
        Assert.Equal(-120m, balances["dan-card"]);

        // Quit as a person quits the app: the silo leaves the cluster at once, so the next test finds no dead member in it.
        await dan.StopAsync();
    }

    [Fact]
    public async Task A_members_tv_asks_both_guardians_phones_one_approves_and_the_tv_shows_who()
    {
        // Bob's own TV (tv-2), Alice's phone (phone-1) and Carol's phone (phone-5); Bob has no budget: guardians decide.
        var tvPort = LoopbackPorts.Reserve();
        var carolPort = LoopbackPorts.Reserve();
        await using var bobsTvAgent = await household.StartInitiatorAsync("tv-2", "Bob's TV", tvPort);
        await using var carol = await household.StartPayerAsync("phone-5", "Carol's phone", carolPort);
        await household.WaitForAsync(async () => await household.IsOnlineAsync("tv-2") && await household.IsOnlineAsync("phone-5"), "Bob's TV and Carol's phone to be online");
        foreach (var command in new[]
        {
            new[] { "members", "add", "alice", "--name", "Alice", "--role", "guardian" },
            ["members", "add", "carol", "--name", "Carol", "--role", "guardian"],
            ["members", "add", "bob", "--name", "Bob", "--role", "member"],
            ["members", "assign", "alice", "--device", "phone-1"],
            ["members", "assign", "carol", "--device", "phone-5"],
            ["members", "assign", "bob", "--device", "tv-2"],
        })
        {
            var done = await household.RunAsync([.. command, "--json"]);
            Assert.True(done.ExitCode == 0, done.ToString());
        }

        var bobsTv = await _tvContext.NewPageAsync();
        await bobsTv.GotoAsync($"http://127.0.0.1:{tvPort}/");
        var carolsPhone = await _phoneContext.NewPageAsync();
        await carolsPhone.GotoAsync($"http://127.0.0.1:{carolPort}/");
        await Phone.GotoAsync(household.PayerUrl);
        await Expect(Phone.Locator("#connection")).ToHaveTextAsync("connected");
        await Expect(carolsPhone.Locator("#connection")).ToHaveTextAsync("connected");
        await Expect(Phone.Locator("#device-owner")).ToHaveTextAsync("Alice's");
        await Expect(carolsPhone.Locator("#device-owner")).ToHaveTextAsync("Carol's");
        await bobsTv.GetByRole(AriaRole.Button, new() { Name = "Add Celadon teapot to order" }).ClickAsync();
        await bobsTv.Locator("input[name=payer][value=phone-1]").CheckAsync();
        await bobsTv.GetByRole(AriaRole.Button, new() { Name = $"Pay on {WebHousehold.PhoneName}" }).ClickAsync();

        // The TV says it waits, and for whom; both guardians' phones say who asks, for what, and why.
        await Expect(bobsTv.Locator("#progress-title")).ToHaveTextAsync("Asking Alice or Carol for 120.00 CNY");
        await Expect(bobsTv.Locator("#progress-status")).ToHaveTextAsync("Waiting for a guardian: Alice or Carol (Bob has no budget in CNY).");
        await Expect(bobsTv.Locator("#progress-countdown")).ToHaveTextAsync(new Regex(@"^Expires in 2[34]:\d\d:\d\d$"));
        foreach (var guardian in new[] { Phone, carolsPhone })
        {
            await Expect(guardian.Locator("#asked-by")).ToHaveTextAsync("Bob asks for:");
            await Expect(guardian.Locator("#merchant")).ToHaveTextAsync("Tea House");
            await Expect(guardian.Locator("#total")).ToHaveTextAsync("120.00 CNY");
            await Expect(guardian.Locator("#rule")).ToHaveTextAsync("Bob has no budget in CNY. You decide as a guardian: approve to pay it yourself, or decline.");
        }

        await Screens.CaptureAsync(household.Browser, "8-guardian-asked", bobsTv, Phone);
        var paymentId = await Phone.Locator("#sheet").GetAttributeAsync("data-payment-id");

        // Alice approves with her PIN; Carol's sheet closes saying where it was paid; Bob's TV shows who approved.
        await Phone.GetByLabel("Enter your PIN to pay").FillAsync(WebHousehold.Pin);
        await Phone.GetByRole(AriaRole.Button, new() { Name = "Approve and pay 120.00 CNY" }).ClickAsync();
        await Expect(Phone.Locator("#result-title")).ToHaveTextAsync("Paid");
        await Expect(carolsPhone.Locator("#result-detail")).ToHaveTextAsync("Paid on phone-1: 120.00 CNY to Tea House. Nothing to do here.");
        await Expect(bobsTv.Locator("#receipt-title")).ToHaveTextAsync("Paid — thank you");
        await Expect(bobsTv.Locator("#receipt-approved")).ToHaveTextAsync("Alice");
        await Screens.CaptureAsync(household.Browser, "9-guardian-approved", bobsTv, Phone);

        var status = await household.RunAsync("status", paymentId!, "--json");
        Assert.Equal(("Completed", "bob", "alice"), (status.Json.GetProperty("state").GetString(), status.Json.GetProperty("askedBy").GetProperty("id").GetString(), status.Json.GetProperty("approvedBy").GetProperty("id").GetString()));
        await carol.StopAsync();
        await bobsTvAgent.StopAsync();
    }

    private async Task OpenBothAsync()
    {
        await Tv.GotoAsync(household.InitiatorUrl);
        await Phone.GotoAsync(household.PayerUrl);
        await Expect(Phone.Locator("#connection")).ToHaveTextAsync("connected");
        await Expect(Phone.Locator("#device-name")).ToHaveTextAsync(WebHousehold.PhoneName);
        await Expect(Tv.Locator("#device-name")).ToHaveTextAsync($"on {WebHousehold.TvName}");
    }

    private async Task AddAsync(string item, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            await Tv.GetByRole(AriaRole.Button, new() { Name = $"Add {item} to order" }).ClickAsync();
        }
    }

    private async Task PressPadAsync(string digits)
    {
        foreach (var digit in digits)
        {
            await Phone.GetByRole(AriaRole.Group, new() { Name = "PIN pad" })
                .GetByRole(AriaRole.Button, new() { Name = digit.ToString(), Exact = true })
                .ClickAsync();
        }
    }
}
