using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace Handoff.Web.Tests;

/// <summary>
/// What a page of another origin, a DNS-rebinding page and a careless local client can do with the household's
/// local HTTP servers (hub, payer agent, initiator agent): nothing that changes anything, nothing read under a
/// foreign name. The attacks run against the real processes of <see cref="WebHousehold"/>, in Chromium where a
/// browser is the attacker.
/// </summary>
[Collection(WebHouseholdCollection.Name)]
public sealed class LocalApiAttackTests(WebHousehold household) : IAsyncLifetime
{
    private const string TokenHeader = "X-Handoff-Token";
    private const int MaxBodyBytes = 16 * 1024;
    private const int MaxEventStreams = 16;

    private readonly EvilSite _evil = new();
    private IBrowserContext _context = null!;

    private string PayerOrigin => $"http://127.0.0.1:{Port(household.PayerHttpPort)}";

    private string InitiatorOrigin => $"http://127.0.0.1:{Port(household.InitiatorHttpPort)}";

    public async Task InitializeAsync()
    {
        await household.ClearSheetAsync();
        _context = await household.Browser.NewContextAsync();
    }

    public async Task DisposeAsync()
    {
        await _context.CloseAsync();
        _evil.Dispose();
        await household.ClearSheetAsync();
    }

    [Fact]
    public async Task A_page_of_another_origin_can_neither_approve_nor_decline_nor_ask_for_a_payment()
    {
        var paymentId = await PayAsync("Evil Corp test");
        var page = await _context.NewPageAsync();
        await page.GotoAsync(_evil.Url);
        Assert.Equal(_evil.Origin, await page.EvaluateAsync<string>("location.origin"));

        // fetch with mode no-cors: the browser sends it without a preflight, but only with a "simple" content type.
        await NoCorsPostAsync(page, $"{PayerOrigin}/api/offers/{paymentId}/approve-biometric", body: null);
        await NoCorsPostAsync(page, $"{PayerOrigin}/api/offers/{paymentId}/approve", $$"""{"pin":"{{WebHousehold.Pin}}"}""");
        await NoCorsPostAsync(page, $"{InitiatorOrigin}/api/payments", """{"payer":"phone-1","amount":1,"currency":"CNY","merchant":"Evil Corp"}""");
        await NoCorsPostAsync(page, $"{InitiatorOrigin}/api/payments/{paymentId}/cancel", body: null);

        // A form that submits itself: a top-level navigation, which no CORS rule stops.
        await FormPostAsync(page, $"{PayerOrigin}/api/offers/{paymentId}/decline", "application/x-www-form-urlencoded", "reason", "evil");
        await page.GotoAsync(_evil.Url);
        await FormPostAsync(page, $"{InitiatorOrigin}/api/payments", "text/plain", "{\"payer\":\"phone-1\",\"amount\":1,\"currency\":\"CNY\",\"merchant\":\"Evil Corp\",\"x\":\"", "\"}");

        // Every request above got its answer before its promise or navigation settled: what it did is done by now.
        Assert.Equal([paymentId], await OffersAsync());
        var status = await household.RunAsync("status", paymentId, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("Displayed", status.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_page_of_another_origin_cannot_refund_a_completed_payment()
    {
        var paymentId = await PayAsync("Refund Evil test");
        var approve = await household.RunAsync("approve", paymentId, "--pin", WebHousehold.Pin, "--payer-url", household.PayerUrl, "--json");
        Assert.True(approve.ExitCode == 0, approve.ToString());
        var page = await _context.NewPageAsync();
        await page.GotoAsync(_evil.Url);

        await NoCorsPostAsync(page, $"{InitiatorOrigin}/api/payments/{paymentId}/refund", """{"key":"evil"}""");
        await FormPostAsync(page, $"{InitiatorOrigin}/api/payments/{paymentId}/refund", "text/plain", "{\"key\":\"evil\",\"x\":\"", "\"}");

        var status = await household.RunAsync("status", paymentId, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("Completed", status.Json.GetProperty("state").GetString());
        Assert.Equal(0m, status.Json.GetProperty("refunded").GetDecimal());
        Assert.Empty(status.Json.GetProperty("refunds").EnumerateArray());
    }

    [Fact]
    public async Task A_read_or_an_event_stream_asked_for_by_another_origin_is_refused()
    {
        // What a browser sends for a page of another origin (fetch, EventSource): its Origin. Refused before it holds a stream.
        using var http = new HttpClient();
        foreach (var path in new[] { "/api/sheet/events", "/api/offers" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, PayerOrigin + path);
            request.Headers.Add("Origin", _evil.Origin);
            using var refused = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await AssertRefusedAsync(refused, HttpStatusCode.Forbidden, "forbidden", path);

            // An <img> of another site's page carries no Origin, only what Fetch Metadata says of it.
            foreach (var site in new[] { "cross-site", "same-site" })
            {
                using var image = new HttpRequestMessage(HttpMethod.Get, PayerOrigin + path);
                image.Headers.Add("Sec-Fetch-Site", site);
                image.Headers.Add("Sec-Fetch-Mode", "no-cors");
                image.Headers.Add("Sec-Fetch-Dest", "image");
                using var refusedImage = await http.SendAsync(image, HttpCompletionOption.ResponseHeadersRead);
                await AssertRefusedAsync(refusedImage, HttpStatusCode.Forbidden, "forbidden", $"{path} as a {site} image");
            }

            using var own = new HttpRequestMessage(HttpMethod.Get, PayerOrigin + path);
            own.Headers.Add("Origin", PayerOrigin);
            own.Headers.Add("Sec-Fetch-Site", "same-origin");
            using var served = await http.SendAsync(own, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
    }

    [Fact]
    public async Task A_link_on_a_page_of_another_origin_still_opens_the_sheet()
    {
        var page = await _context.NewPageAsync();
        await page.GotoAsync(_evil.Url);
        await page.EvaluateAsync("url => { const link = document.createElement('a'); link.href = url; link.textContent = 'Open the sheet'; document.body.append(link); }", PayerOrigin + "/");

        var opened = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("text=Open the sheet"), PayerOrigin + "/");

        Assert.Equal(200, opened.Status);
        await Microsoft.Playwright.Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("connected");
    }

    [Fact]
    public async Task Every_server_refuses_a_request_under_another_host_name()
    {
        using var http = new HttpClient();
        string[] urls =
        [
            $"{PayerOrigin}/", $"{PayerOrigin}/api/offers", $"{PayerOrigin}/api/sheet/events", $"{PayerOrigin}/health",
            $"{InitiatorOrigin}/", $"{InitiatorOrigin}/api/payers", $"{InitiatorOrigin}/api/device",
            $"http://127.0.0.1:{Port(household.HubHttpPort)}/?household={household.Household}",
            $"http://127.0.0.1:{Port(household.HubHttpPort)}/metrics",
            $"http://127.0.0.1:{Port(household.HubHttpPort)}/dashboard/",
            $"http://127.0.0.1:{Port(household.HubHttpPort)}/traces",
        ];
        foreach (var url in urls)
        {
            var port = new Uri(url).Port;

            // The same request under the server's own names is served, so a refusal below is the Host's doing.
            foreach (var own in new[] { $"127.0.0.1:{Port(port)}", $"localhost:{Port(port)}", $"[::1]:{Port(port)}" })
            {
                using var served = await GetAsync(http, url, own);
                Assert.True(served.StatusCode == HttpStatusCode.OK, $"{url} as {own}: {served.StatusCode}");
            }

            // A DNS-rebinding page reaches the server as its own name; another port is another server.
            foreach (var foreign in new[] { $"evil.example:{Port(port)}", "evil.example", $"127.0.0.1:{Port(port + 1)}", $"localhost.evil.example:{Port(port)}" })
            {
                using var refused = await GetAsync(http, url, foreign);
                await AssertRefusedAsync(refused, HttpStatusCode.Forbidden, "forbidden", $"{url} as {foreign}");
            }
        }
    }

    [Fact]
    public async Task A_rebinding_page_cannot_approve_even_with_the_right_token()
    {
        var paymentId = await PayAsync("Rebinding test");
        using var http = WebHousehold.LocalApiClient("payer", household.PayerHttpPort);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/offers/{paymentId}/approve-biometric");
        request.Headers.Host = $"evil.example:{Port(household.PayerHttpPort)}";

        using var refused = await http.SendAsync(request);

        await AssertRefusedAsync(refused, HttpStatusCode.Forbidden, "forbidden", "approve under evil.example");
        Assert.Equal([paymentId], await OffersAsync());
    }

    [Fact]
    public async Task A_post_needs_the_agent_s_own_origin_and_this_launch_s_token()
    {
        var paymentId = await PayAsync("Token test");
        var token = await File.ReadAllTextAsync(WebHousehold.TokenPath("payer", household.PayerHttpPort));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(WebHousehold.TokenPath("payer", household.PayerHttpPort)));
        }

        var decline = $"{PayerOrigin}/api/offers/{paymentId}/decline";
        using var http = new HttpClient();
        (string? Origin, string? Token, string Why)[] refusals =
        [
            (PayerOrigin, null, "no token"),
            (PayerOrigin, string.Empty, "an empty token"),
            (PayerOrigin, token[..^1] + (token[^1] == 'A' ? 'B' : 'A'), "a wrong token"),
            (PayerOrigin, File.ReadAllText(WebHousehold.TokenPath("initiator", household.InitiatorHttpPort)), "the other agent's token"),
            (null, token, "no Origin"),
            ("null", token, "an opaque Origin"),
            (_evil.Origin, token, "a foreign Origin"),
            (InitiatorOrigin, token, "the other agent's Origin"),
            ($"https://127.0.0.1:{Port(household.PayerHttpPort)}", token, "another scheme"),
        ];
        foreach (var (origin, given, why) in refusals)
        {
            using var refused = await PostAsync(http, decline, origin, given, content: null);
            await AssertRefusedAsync(refused, HttpStatusCode.Forbidden, "forbidden", why);
        }

        Assert.Equal([paymentId], await OffersAsync());

        // Under each of its own names, with the token: the same request does decline.
        using var declined = await PostAsync(http, decline.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), $"http://localhost:{Port(household.PayerHttpPort)}", token, content: null);
        Assert.True(declined.IsSuccessStatusCode, await declined.Content.ReadAsStringAsync());
        Assert.Equal("declined", (await declined.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString());
        Assert.Empty(await OffersAsync());
    }

    [Fact]
    public async Task The_tv_s_api_asks_for_a_payment_only_with_its_token()
    {
        using var http = new HttpClient();
        var payment = new { payer = "phone-1", amount = 2.5m, currency = "CNY", merchant = "Token Shop" };
        using var refused = await PostAsync(http, $"{InitiatorOrigin}/api/payments", InitiatorOrigin, token: null, JsonContent.Create(payment));
        await AssertRefusedAsync(refused, HttpStatusCode.Forbidden, "forbidden", "no token");
        Assert.Empty(await OffersAsync());

        using var tv = WebHousehold.LocalApiClient("initiator", household.InitiatorHttpPort);
        using var asked = await tv.PostAsJsonAsync("/api/payments", payment);

        Assert.Equal(HttpStatusCode.Created, asked.StatusCode);
        var paymentId = (await asked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentId").GetString()!;
        await household.WaitForAsync(async () => (await OffersAsync()).SequenceEqual([paymentId]), $"payment {paymentId} on the phone");
    }

    [Fact]
    public async Task A_post_takes_only_json_within_the_size_limit()
    {
        using var tv = WebHousehold.LocalApiClient("initiator", household.InitiatorHttpPort);
        var json = """{"payer":"phone-1","amount":1,"currency":"CNY","merchant":"Size Shop"}""";
        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", "text/json" })
        {
            using var content = new StringContent(json, Encoding.UTF8);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            using var refused = await tv.PostAsync("/api/payments", content);
            await AssertRefusedAsync(refused, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", type);
        }

        // One byte over the limit, told by Content-Length and, in chunks, told by nothing.
        var tooLong = $$"""{"payer":"phone-1","amount":1,"currency":"CNY","merchant":"Size Shop","description":"{{new string('x', MaxBodyBytes)}}"}""";
        var over = Encoding.UTF8.GetBytes(tooLong)[..(MaxBodyBytes + 1)];
        using (var sized = new ByteArrayContent(over))
        {
            sized.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var refused = await tv.PostAsync("/api/payments", sized);
            await AssertRefusedAsync(refused, HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "Content-Length over the limit");
        }

        using (var chunked = new StreamContent(new UnknownLengthStream(over)))
        {
            chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/payments") { Content = chunked };
            using var refused = await tv.SendAsync(request);
            Assert.Null(chunked.Headers.ContentLength);
            await AssertRefusedAsync(refused, HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "a chunked body over the limit");
        }

        Assert.Empty(await OffersAsync());

        // At the limit it is read (and then refused by the payment rules, for its description: not by size).
        var atLimit = $$"""{"payer":"phone-1","amount":1,"currency":"CNY","merchant":"Size Shop","description":"{{new string('x', 201)}}"}""";
        atLimit = atLimit.Insert(atLimit.Length - 1, new string(' ', MaxBodyBytes - Encoding.UTF8.GetByteCount(atLimit)));
        Assert.Equal(MaxBodyBytes, Encoding.UTF8.GetByteCount(atLimit));
        using var atLimitContent = new StringContent(atLimit, Encoding.UTF8, "application/json");
        using var read = await tv.PostAsync("/api/payments", atLimitContent);
        Assert.True(read.StatusCode == HttpStatusCode.Conflict, $"{read.StatusCode}: {await read.Content.ReadAsStringAsync()}");
        Assert.Equal("too_long", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Responses_forbid_sniffing_framing_caching_and_carry_no_cors_headers()
    {
        using var http = new HttpClient();
        string[] urls =
        [
            $"{PayerOrigin}/", $"{PayerOrigin}/api/offers", $"{PayerOrigin}/sheet.js",
            $"{InitiatorOrigin}/", $"{InitiatorOrigin}/api/payers",
            $"http://127.0.0.1:{Port(household.HubHttpPort)}/?household={household.Household}",
            $"http://127.0.0.1:{Port(household.HubHttpPort)}/metrics",
        ];
        foreach (var url in urls)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}");
            Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
            Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
            Assert.Equal(["frame-ancestors 'none'"], response.Headers.GetValues("Content-Security-Policy"));
            Assert.DoesNotContain(response.Headers.Concat(response.Content.Headers), header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
            var cache = response.Headers.CacheControl?.ToString();
            Assert.True(url.EndsWith(".js", StringComparison.Ordinal) ? cache == "no-cache" : cache == "no-store", $"{url}: Cache-Control {cache}");
        }

        // The page carries this launch's token; the file beside the keys holds the same.
        var page = await http.GetStringAsync($"{PayerOrigin}/");
        var token = await File.ReadAllTextAsync(WebHousehold.TokenPath("payer", household.PayerHttpPort));
        Assert.Equal(43, token.Length);
        Assert.Contains($"""<meta name="handoff-token" content="{token}">""", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_seventeenth_event_stream_is_refused_and_a_closed_one_frees_its_place()
    {
        // A payer agent of its own, so that no page of another test holds one of its streams.
        var port = LoopbackPorts.Reserve();
        await using var carol = await household.StartPayerAsync("phone-3", "Carol's phone", port);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port(port)}/"), Timeout = TimeSpan.FromSeconds(30) };
            var streams = new List<HttpResponseMessage>();
            try
            {
                for (var i = 0; i < MaxEventStreams; i++)
                {
                    var stream = await OpenStreamAsync(http);
                    streams.Add(stream);
                    Assert.True(stream.StatusCode == HttpStatusCode.OK, $"stream {i + 1}: {stream.StatusCode}");
                    Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
                }

                using (var refused = await OpenStreamAsync(http))
                {
                    await AssertRefusedAsync(refused, HttpStatusCode.TooManyRequests, "too_many_streams", "stream 17");
                }

                // Reads are not streams: the sheet still answers while all its streams are taken.
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/offers")).StatusCode);

                streams[0].Dispose();
                streams.RemoveAt(0);
                await household.WaitForAsync(
                    async () =>
                    {
                        var again = await OpenStreamAsync(http);
                        if (again.StatusCode == HttpStatusCode.OK)
                        {
                            streams.Add(again);
                            return true;
                        }

                        again.Dispose();
                        return false;
                    },
                    "the closed stream's place to be free");
                Assert.Equal(MaxEventStreams, streams.Count);
            }
            finally
            {
                streams.ForEach(stream => stream.Dispose());
            }
        }
        finally
        {
            await carol.StopAsync();
            var removed = await household.RunAsync("devices", "remove", "phone-3", "--json");
            Assert.True(removed.ExitCode == 0, removed.ToString());
        }
    }

    private async Task<string> PayAsync(string merchant)
    {
        var pay = await household.RunAsync("pay", "--from", "tv-1", "--to", "phone-1", "--amount", "4.20", "--currency", "CNY", "--merchant", merchant, "--json");
        Assert.True(pay.ExitCode == 0, pay.ToString());
        var paymentId = pay.Json.GetProperty("paymentId").GetString()!;
        await household.WaitForAsync(async () => (await OffersAsync()).SequenceEqual([paymentId]), $"payment {paymentId} on the phone");
        return paymentId;
    }

    /// <summary>The payment ids on the phone's sheet: a plain read, which needs no token.</summary>
    private async Task<string[]> OffersAsync()
    {
        using var http = new HttpClient();
        var offers = await http.GetFromJsonAsync<JsonElement>($"{PayerOrigin}/api/offers");
        return [.. offers.EnumerateArray().Select(offer => offer.GetProperty("paymentId").GetString()!)];
    }

    private static async Task NoCorsPostAsync(IPage page, string url, string? body)
    {
        var type = await page.EvaluateAsync<string>(
            """
            async ([url, body]) => {
              const response = await fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: body ?? undefined });
              return response.type;
            }
            """,
            new[] { url, body });

        // Opaque: the request reached the server and was answered, and the page may not see how.
        Assert.Equal("opaque", type);
    }

    private static async Task FormPostAsync(IPage page, string url, string enctype, string name, string value)
    {
        var answer = await page.RunAndWaitForResponseAsync(
            () => page.EvaluateAsync(
                """
                ([url, enctype, name, value]) => {
                  const form = document.createElement('form');
                  form.method = 'POST';
                  form.action = url;
                  form.enctype = enctype;
                  const field = document.createElement('input');
                  field.name = name;
                  field.value = value;
                  form.append(field);
                  document.body.append(form);
                  form.submit();
                }
                """,
                new[] { url, enctype, name, value }),
            url);
        Assert.Equal("POST", answer.Request.Method);
        Assert.Equal(403, answer.Status);

        // The answer is shown in place of the page: the next navigation waits for it.
        await page.WaitForURLAsync(url);
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Host = host;

        // Headers only: an event stream served would never end.
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string url, string? origin, string? token, HttpContent? content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (token is not null)
        {
            request.Headers.Add(TokenHeader, token);
        }

        return await http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> OpenStreamAsync(HttpClient http)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/sheet/events");
        request.Headers.Accept.ParseAdd("text/event-stream");
        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code, string what)
    {
        // An event stream that was served never ends: its body is not waited for.
        Assert.False(response.Content.Headers.ContentType?.MediaType == "text/event-stream", $"{what}: served as an event stream ({response.StatusCode})");
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var body = await response.Content.ReadAsStringAsync(bounded.Token);
        Assert.True(response.StatusCode == status, $"{what}: {response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), what);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>A body whose length no header tells: HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    /// <summary>A page of another origin on this machine (another port of 127.0.0.1): the attacker's site.</summary>
    private sealed class EvilSite : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public EvilSite()
        {
            var port = LoopbackPorts.Reserve();
            Origin = $"http://127.0.0.1:{Port(port)}";
            _listener.Prefixes.Add($"{Origin}/");
            _listener.Start();
            _serving = ServeAsync();
        }

        public string Origin { get; }

        public string Url => $"{Origin}/";

        public void Dispose()
        {
            _listener.Close();
            _serving.ContinueWith(static _ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(5));
        }

        private async Task ServeAsync()
        {
            var page = "<!doctype html><html><head><title>Win a prize</title></head><body><h1>Win a prize</h1></body></html>"u8.ToArray();
            while (_listener.IsListening)
            {
                var context = await _listener.GetContextAsync();
                context.Response.ContentType = "text/html; charset=utf-8";
                context.Response.ContentLength64 = page.Length;
                await context.Response.OutputStream.WriteAsync(page);
                context.Response.Close();
            }
        }
    }
}
