using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Security;
using Handoff.Contracts.Validation;

namespace Handoff.Grains.Tests;

/// <summary>
/// Malformed or hostile requests, each refused with its stable error code, with nothing persisted and the
/// ledger unchanged: W3C payment details, payment terms (checked by the SDK and again by the authority),
/// devices and households, and signed statements.
/// </summary>
[Collection(HouseholdCollection.Name)]
public sealed class BadInputTests(HouseholdCluster household)
{
    private const string Good = """{"merchant":{"name":"Tea House"},"total":{"label":"Total","amount":{"currency":"CNY","value":"10.00"}}}""";

    public static TheoryData<string, string, string> Details => new()
    {
        { "empty document", "", ErrorCodes.InvalidJson },
        { "not JSON", "tea please", ErrorCodes.InvalidJson },
        { "truncated", """{"total":{"label":"T""", ErrorCodes.InvalidJson },
        { "array root", "[]", ErrorCodes.WrongType },
        { "number root", "42", ErrorCodes.WrongType },
        { "no merchant", """{"total":{"label":"T","amount":{"currency":"CNY","value":"1"}}}""", ErrorCodes.MissingField },
        { "merchant is a string", """{"merchant":"Tea","total":{"label":"T","amount":{"currency":"CNY","value":"1"}}}""", ErrorCodes.WrongType },
        { "merchant name missing", """{"merchant":{},"total":{"label":"T","amount":{"currency":"CNY","value":"1"}}}""", ErrorCodes.MissingField },
        { "merchant name a number", """{"merchant":{"name":7},"total":{"label":"T","amount":{"currency":"CNY","value":"1"}}}""", ErrorCodes.WrongType },
        { "merchant name too long", Doc(merchant: new string('m', 101)), ErrorCodes.TooLong },
        { "merchant name with a control character", Doc(merchant: "Tea\\u0007House"), ErrorCodes.InvalidText },
        { "no total", """{"merchant":{"name":"Tea"}}""", ErrorCodes.MissingField },
        { "total is an array", """{"merchant":{"name":"Tea"},"total":[]}""", ErrorCodes.WrongType },
        { "total label missing", """{"merchant":{"name":"Tea"},"total":{"amount":{"currency":"CNY","value":"1"}}}""", ErrorCodes.MissingField },
        { "total label too long", Doc(label: new string('l', 101)), ErrorCodes.TooLong },
        { "amount missing", """{"merchant":{"name":"Tea"},"total":{"label":"T"}}""", ErrorCodes.MissingField },
        { "value missing", """{"merchant":{"name":"Tea"},"total":{"label":"T","amount":{"currency":"CNY"}}}""", ErrorCodes.MissingField },
        { "value is a number", """{"merchant":{"name":"Tea"},"total":{"label":"T","amount":{"currency":"CNY","value":10}}}""", ErrorCodes.WrongType },
        { "value with a comma", Doc(value: "10,00"), ErrorCodes.InvalidAmount },
        { "value with a plus sign", Doc(value: "+10"), ErrorCodes.InvalidAmount },
        { "value in exponent form", Doc(value: "1e3"), ErrorCodes.InvalidAmount },
        { "value with a trailing dot", Doc(value: "10."), ErrorCodes.InvalidAmount },
        { "value with a leading dot", Doc(value: ".5"), ErrorCodes.InvalidAmount },
        { "value with spaces", Doc(value: " 10"), ErrorCodes.InvalidAmount },
        { "value NaN", Doc(value: "NaN"), ErrorCodes.InvalidAmount },
        { "value absurdly long", Doc(value: new string('9', 40)), ErrorCodes.InvalidAmount },
        { "negative total", Doc(value: "-1.00"), ErrorCodes.NonPositiveAmount },
        { "zero total", Doc(value: "0.00"), ErrorCodes.NonPositiveAmount },
        { "total over the maximum", Doc(value: "1000000.01"), ErrorCodes.LimitExceeded },
        { "three decimals in CNY", Doc(value: "10.001"), ErrorCodes.TooManyDecimals },
        { "decimals in JPY", Doc(value: "10.5", currency: "JPY"), ErrorCodes.TooManyDecimals },
        { "four decimals in KWD", Doc(value: "1.0001", currency: "KWD"), ErrorCodes.TooManyDecimals },
        { "currency missing", """{"merchant":{"name":"Tea"},"total":{"label":"T","amount":{"value":"1"}}}""", ErrorCodes.MissingField },
        { "currency of two letters", Doc(currency: "CN"), ErrorCodes.InvalidCurrency },
        { "currency with a digit", Doc(currency: "C1Y"), ErrorCodes.InvalidCurrency },
        { "currency symbol", Doc(currency: "¥"), ErrorCodes.InvalidCurrency },
        { "currency that does not exist", Doc(currency: "XYZ"), ErrorCodes.UnknownCurrency },
        { "withdrawn currency", Doc(currency: "DEM"), ErrorCodes.UnknownCurrency },
        { "display items not an array", Doc(items: "{}"), ErrorCodes.WrongType },
        { "display items that do not add up", Doc(items: Items(("Tea", "4.00"), ("Cake", "5.00"))), ErrorCodes.ItemsMismatch },
        { "display item in another currency", Doc(items: """[{"label":"Tea","amount":{"currency":"EUR","value":"10.00"}}]"""), ErrorCodes.ItemsMismatch },
        { "display item without a label", Doc(items: """[{"amount":{"currency":"CNY","value":"10.00"}}]"""), ErrorCodes.MissingField },
        { "display item with a bad value", Doc(items: Items(("Tea", "ten"))), ErrorCodes.InvalidAmount },
        { "display item with too many decimals", Doc(items: Items(("Tea", "9.999"), ("Cake", "0.001"))), ErrorCodes.TooManyDecimals },
        { "too many display items", Doc(items: Items([.. Enumerable.Range(0, 51).Select(i => ($"i{i}", "0.00"))])), ErrorCodes.TooManyItems },
        { "payload too large", Doc(items: Items([.. Enumerable.Range(0, 40).Select(i => (new string('x', 500), "0.25"))])), ErrorCodes.PayloadTooLarge },
    };

    public static TheoryData<string, string> Terms => new()
    {
        { "amount zero", ErrorCodes.NonPositiveAmount },
        { "amount negative", ErrorCodes.NonPositiveAmount },
        { "amount with three decimals", ErrorCodes.TooManyDecimals },
        { "lower-case currency", ErrorCodes.InvalidCurrency },
        { "unknown currency", ErrorCodes.UnknownCurrency },
        { "empty merchant", ErrorCodes.MissingField },
        { "merchant too long", ErrorCodes.TooLong },
        { "description too long", ErrorCodes.TooLong },
        { "items that do not add up", ErrorCodes.ItemsMismatch },
        { "over the household spending limit", ErrorCodes.LimitExceeded },
    };

    [Theory]
    [MemberData(nameof(Details))]
    public async Task Malformed_payment_details_are_refused_with_their_code_and_nothing_is_stored(string problem, string json, string code)
    {
        var before = await household.LedgerAsync();

        var error = Assert.Throws<ValidationException>(() => PaymentDetailsReader.Read(Encoding.UTF8.GetBytes(json)));

        Assert.True(code == error.Code, $"{problem}: expected {code}, got {error.Code} ({error.Message})");
        Assert.False(string.IsNullOrEmpty(error.Field));
        Assert.Contains(error.Field, error.Message, StringComparison.Ordinal);
        Assert.Equal(before.Entries.Count, (await household.LedgerAsync()).Entries.Count);
    }

    [Fact]
    public void Well_formed_details_are_read_with_their_items()
    {
        var read = PaymentDetailsReader.Read(Encoding.UTF8.GetBytes(Doc(items: Items(("Tea", "4.00"), ("Cake", "6.00")), id: "order-7")));

        Assert.Equal("order-7", read.Id);
        Assert.Equal(10.00m, read.Info.Amount);
        Assert.Equal([new PaymentLine("Tea", 4.00m), new PaymentLine("Cake", 6.00m)], read.Info.Items);
        Assert.Equal("Tea House", read.Info.Merchant);
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public async Task Bad_terms_are_refused_by_the_authority_itself_even_when_signed(string problem, string code)
    {
        var info = problem switch
        {
            "amount zero" => new PaymentInfo(0m, "CNY", "Tea House"),
            "amount negative" => new PaymentInfo(-5m, "CNY", "Tea House"),
            "amount with three decimals" => new PaymentInfo(1.005m, "CNY", "Tea House"),
            "lower-case currency" => new PaymentInfo(5m, "cny", "Tea House"),
            "unknown currency" => new PaymentInfo(5m, "ABC", "Tea House"),
            "empty merchant" => new PaymentInfo(5m, "CNY", " "),
            "merchant too long" => new PaymentInfo(5m, "CNY", new string('m', 101)),
            "description too long" => new PaymentInfo(5m, "CNY", "Tea House", new string('d', 201)),
            "items that do not add up" => new PaymentInfo(5m, "CNY", "Tea House", null, [new PaymentLine("Tea", 4m)]),
            _ => new PaymentInfo(10_001m, "CNY", "Tea House"),
        };

        // Signed like the SDK would, but sent straight to the grain: the authority checks on its own.
        var order = "bad-terms-" + problem;
        var input = new PaymentRequestInput(HouseholdCluster.Home, HouseholdCluster.Tv, HouseholdCluster.Phone1.Id, order, info);
        input = input with { Signature = household.Keys.Sign(HouseholdCluster.Tv, Signing.Request(input)) };
        var grain = new AsDevice(household.Tv1, PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, order));
        var before = await household.LedgerAsync();

        var error = await Assert.ThrowsAsync<ValidationException>(() => grain.CreateAsync(input));

        Assert.True(code == error.Code, $"{problem}: expected {code}, got {error.Code} ({error.Message})");
        await Assert.ThrowsAsync<NotFoundException>(() => household.Tv1.GetPaymentAsync(grain.PaymentId));
        Assert.Equal(before.Entries.Count, (await household.LedgerAsync()).Entries.Count);
    }

    [Theory]
    [InlineData("unknown payer", ErrorCodes.NotFound)]
    [InlineData("unpaired initiator", ErrorCodes.Forbidden)]
    [InlineData("payer of another household", ErrorCodes.NotFound)]
    [InlineData("caller of another household", ErrorCodes.NotFound)]
    [InlineData("paying oneself", ErrorCodes.SameDevice)]
    [InlineData("a TV as the payer", ErrorCodes.NotCapable)]
    [InlineData("payer id with a space", ErrorCodes.InvalidId)]
    [InlineData("order key too long", ErrorCodes.TooLong)]
    [InlineData("expiry of one second", ErrorCodes.InvalidExpiry)]
    [InlineData("expiry of a day", ErrorCodes.InvalidExpiry)]
    [InlineData("same order key, other amount", ErrorCodes.Conflict)]
    public async Task Requests_naming_bad_devices_households_or_orders_are_refused(string problem, string code)
    {
        var tea = new PaymentInfo(3m, "CNY", "Tea House");
        var tv = household.Tv1;
        var order = "bad-device-" + Guid.NewGuid().ToString("n");
        var before = await household.LedgerAsync();
        if (problem == "same order key, other amount")
        {
            await tv.RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, order);
        }

        Func<Task> act = problem switch
        {
            "unknown payer" => () => tv.RequestPaymentAsync(tea, "phone-404", order),
            "unpaired initiator" => () => household.Client(HouseholdCluster.Home, "tv-stranger").As("tv-stranger", Unpaired("tv-stranger")).RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, order),
            "payer of another household" => () => tv.RequestPaymentAsync(tea, HouseholdCluster.PhoneX.Id, order),
            "caller of another household" => () => household.Client(HouseholdCluster.Other, HouseholdCluster.OtherTv).RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, order),
            "paying oneself" => () => household.Client(HouseholdCluster.Home, HouseholdCluster.Phone1.Id).RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, order),
            "a TV as the payer" => () => household.Client(HouseholdCluster.Home, HouseholdCluster.Phone1.Id).RequestPaymentAsync(tea, HouseholdCluster.Tv, order),
            "payer id with a space" => () => tv.RequestPaymentAsync(tea, "phone 1", order),
            "order key too long" => () => tv.RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, new string('o', 129)),
            "expiry of one second" => () => tv.RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, order, TimeSpan.FromSeconds(1)),
            "expiry of a day" => () => tv.RequestPaymentAsync(tea, HouseholdCluster.Phone1.Id, order, TimeSpan.FromDays(1)),
            _ => () => tv.RequestPaymentAsync(tea with { Amount = 4m }, HouseholdCluster.Phone1.Id, order),
        };

        var error = await Assert.ThrowsAnyAsync<HandoffException>(act);

        Assert.True(code == error.Code, $"{problem}: expected {code}, got {error.Code} ({error.Message})");
        Assert.Equal(before.Entries.Count, (await household.LedgerAsync()).Entries.Count);
        if (problem != "same order key, other amount")
        {
            await Assert.ThrowsAsync<NotFoundException>(() => tv.GetPaymentAsync(PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, order)));
        }
        else
        {
            Assert.Equal(3m, (await tv.GetPaymentAsync(PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, order))).Info.Amount);
        }
    }

    private static KeyRingSigner Unpaired(string deviceId)
    {
        var keys = new KeyRingSigner();
        keys.Add(deviceId, Signing.NewKey());
        return keys;
    }

    private static string Doc(string merchant = "Tea House", string label = "Total", string value = "10.00", string currency = "CNY", string? items = null, string? id = null) =>
        "{" + (id is null ? string.Empty : $"\"id\":\"{id}\",")
        + $"\"merchant\":{{\"name\":\"{merchant}\"}},\"total\":{{\"label\":\"{label}\",\"amount\":{{\"currency\":\"{currency}\",\"value\":\"{value}\"}}}}"
        + (items is null ? string.Empty : $",\"displayItems\":{items}") + "}";

    private static string Items(params (string Label, string Value)[] items) =>
        "[" + string.Join(",", items.Select(item => $"{{\"label\":\"{item.Label}\",\"amount\":{{\"currency\":\"CNY\",\"value\":\"{item.Value}\"}}}}")) + "]";
}
