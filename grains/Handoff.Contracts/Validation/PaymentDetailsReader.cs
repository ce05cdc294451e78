using System.Text.Json;

namespace Handoff.Contracts.Validation;

/// <summary>A payment read from W3C <c>PaymentDetailsInit</c> JSON plus the merchant's identity.</summary>
/// <param name="Id">The details' <c>id</c>, used as the order key when the caller gives none.</param>
public sealed record PaymentDetailsInput(string? Id, PaymentInfo Info);

/// <summary>
/// Reads payment information in the shape of the W3C Payment Request API's <c>PaymentDetailsInit</c>
/// (<c>id</c>, <c>total {label, amount {currency, value}}</c>, <c>displayItems[]</c>) plus
/// <c>merchant {name}</c>. Every refusal is a <see cref="ValidationException"/> with a stable code
/// naming the JSON path of the field.
/// </summary>
public static class PaymentDetailsReader
{
    /// <summary>
    /// Reads the details; the payee is their <c>merchant {name}</c> or, since a W3C details object has none,
    /// <paramref name="merchant"/> given beside them (one of the two, not both).
    /// </summary>
    public static PaymentDetailsInput Read(ReadOnlySpan<byte> json, string? merchant = null)
    {
        if (json.Length > PaymentRules.MaxDetailsBytes)
        {
            throw new ValidationException("details", $"is {json.Length} bytes, at most {PaymentRules.MaxDetailsBytes} are accepted", ErrorCodes.PayloadTooLarge);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException malformed)
        {
            throw new ValidationException("details", $"is not valid JSON: {malformed.Message}", ErrorCodes.InvalidJson);
        }

        using (document)
        {
            var root = Object(document.RootElement, "details");
            var id = OptionalString(root, "id", "id");
            if (id is not null)
            {
                PaymentRules.RequireText(id, "id", 128);
            }

            var merchantName = MerchantName(root, merchant);
            var total = Object(Required(root, "total", "total"), "total");
            var label = String(Required(total, "label", "total.label"), "total.label");
            PaymentRules.RequireText(label, "total.label", PaymentRules.MaxLabelLength);
            var (currency, amount) = Amount(Required(total, "amount", "total.amount"), "total.amount");
            if (amount < 0)
            {
                throw new ValidationException("total.amount.value", "must not be negative", ErrorCodes.NonPositiveAmount);
            }

            List<PaymentLine>? lines = null;
            if (root.TryGetProperty("displayItems", out var items) && items.ValueKind != JsonValueKind.Null)
            {
                if (items.ValueKind != JsonValueKind.Array)
                {
                    throw new ValidationException("displayItems", "must be an array", ErrorCodes.WrongType);
                }

                if (items.GetArrayLength() > PaymentRules.MaxItems)
                {
                    throw new ValidationException("displayItems", $"must be at most {PaymentRules.MaxItems} items, has {items.GetArrayLength()}", ErrorCodes.TooManyItems);
                }

                lines = [];
                var index = 0;
                foreach (var item in items.EnumerateArray())
                {
                    var path = $"displayItems[{index++}]";
                    var itemObject = Object(item, path);
                    var itemLabel = String(Required(itemObject, "label", $"{path}.label"), $"{path}.label");
                    var (itemCurrency, itemAmount) = Amount(Required(itemObject, "amount", $"{path}.amount"), $"{path}.amount");
                    if (itemCurrency != currency)
                    {
                        throw new ValidationException($"{path}.amount.currency", $"is {itemCurrency}, the total is in {currency}", ErrorCodes.ItemsMismatch);
                    }

                    lines.Add(new PaymentLine(itemLabel, itemAmount));
                }
            }

            var info = new PaymentInfo(amount, currency, merchantName, label == "Total" ? null : label, lines);
            PaymentRules.Check(info);
            return new PaymentDetailsInput(id, info);
        }
    }

    private static string MerchantName(JsonElement root, string? given)
    {
        if (!root.TryGetProperty("merchant", out var inDetails) || inDetails.ValueKind == JsonValueKind.Null)
        {
            return given ?? throw new ValidationException("merchant", "is required: merchant {name} in the details, or the payee's name beside them", ErrorCodes.MissingField);
        }

        var name = String(Required(Object(inDetails, "merchant"), "name", "merchant.name"), "merchant.name");
        return given is null
            ? name
            : throw new ValidationException("merchant", $"is given twice: '{name}' in the details and '{given}' beside them; give it once");
    }

    private static (string Currency, decimal Value) Amount(JsonElement element, string path)
    {
        var amount = Object(element, path);
        var currency = PaymentRules.RequireCurrency(String(Required(amount, "currency", $"{path}.currency"), $"{path}.currency"), $"{path}.currency");

        // W3C carries the value as a string, so that no floating point touches money.
        var value = PaymentRules.ParseMonetaryValue(String(Required(amount, "value", $"{path}.value"), $"{path}.value"), $"{path}.value");
        PaymentRules.RequireDigits(value, currency, $"{path}.value");
        return (currency, value);
    }

    private static JsonElement Required(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new ValidationException(path, "is required", ErrorCodes.MissingField);

    private static JsonElement Object(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.Object ? element : throw new ValidationException(path, $"must be an object, is {Kind(element)}", ErrorCodes.WrongType);

    private static string String(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new ValidationException(path, $"must be a string, is {Kind(element)}", ErrorCodes.WrongType);

    private static string? OptionalString(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? String(value, path) : null;

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => "a number",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        _ => "a string",
    };
}
