using System.Globalization;
using System.Text.RegularExpressions;

namespace Handoff.Contracts.Validation;

/// <summary>
/// The rules every payment must meet, checked by the SDK before sending and again by the payment's
/// authority: at least as strict as the W3C Payment Request API, then stricter (real ISO 4217 codes and
/// their minor units, items that add up, bounded sizes).
/// </summary>
public static partial class PaymentRules
{
    public const int MaxMerchantLength = 100;
    public const int MaxLabelLength = 100;
    public const int MaxDescriptionLength = 200;
    public const int MaxItems = 50;
    public const int MaxDetailsBytes = 16 * 1024;
    public const decimal MaxAmount = 1_000_000m;

    /// <summary>Parses a W3C "valid decimal monetary value" (<c>-?[0-9]+(\.[0-9]+)?</c>), naming the field when it is not one.</summary>
    public static decimal ParseMonetaryValue(string? value, string field)
    {
        if (value is null)
        {
            throw new ValidationException(field, "is required", ErrorCodes.MissingField);
        }

        if (value.Length > 32 || !MonetaryValue().IsMatch(value)
            || !decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            throw new ValidationException(field, $"'{value}' is not a decimal monetary value such as 12.50", ErrorCodes.InvalidAmount);
        }

        return amount;
    }

    /// <summary>The upper-case code of a well-formed, active ISO 4217 currency.</summary>
    public static string RequireCurrency(string? code, string field)
    {
        if (string.IsNullOrEmpty(code))
        {
            throw new ValidationException(field, "is required", ErrorCodes.MissingField);
        }

        // W3C accepts any three ASCII letters in any case; the currency itself must then exist.
        if (code.Length != 3 || !code.All(char.IsAsciiLetter))
        {
            throw new ValidationException(field, $"'{code}' is not a three-letter currency code such as CNY", ErrorCodes.InvalidCurrency);
        }

        var upper = code.ToUpperInvariant();
        return Iso4217.DigitsOf(upper) is not null
            ? upper
            : throw new ValidationException(field, $"'{code}' is not an ISO 4217 currency", ErrorCodes.UnknownCurrency);
    }

    /// <summary>Checks an amount has no more fraction digits than its currency has minor units.</summary>
    public static void RequireDigits(decimal amount, string currency, string field)
    {
        var digits = Iso4217.DigitsOf(currency) ?? 2;
        if (decimal.Round(amount, digits) != amount)
        {
            throw new ValidationException(field, $"{currency} allows {digits} decimal place{(digits == 1 ? string.Empty : "s")}, {amount.ToString(CultureInfo.InvariantCulture)} has more", ErrorCodes.TooManyDecimals);
        }
    }

    /// <summary>Checks a text field: present, bounded, no control characters.</summary>
    public static void RequireText(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ValidationException(field, "is required", ErrorCodes.MissingField);
        }

        if (value.Length > maxLength)
        {
            throw new ValidationException(field, $"must be at most {maxLength} characters, has {value.Length}", ErrorCodes.TooLong);
        }

        if (value.Any(char.IsControl))
        {
            throw new ValidationException(field, "must not contain control characters", ErrorCodes.InvalidText);
        }
    }

    /// <summary>Every rule on the payment's terms (the spending limit is the household's, checked by the authority).</summary>
    public static void Check(PaymentInfo? info)
    {
        if (info is null)
        {
            throw new ValidationException("payment", "is required", ErrorCodes.MissingField);
        }

        RequireText(info.Merchant, "merchant", MaxMerchantLength);
        if (info.Description is not null)
        {
            RequireText(info.Description, "description", MaxDescriptionLength);
        }

        if (info.Category is not null)
        {
            DeviceIds.Require(info.Category, "category");
        }

        if (RequireCurrency(info.Currency, "currency") != info.Currency)
        {
            throw new ValidationException("currency", $"'{info.Currency}' must be given in upper case", ErrorCodes.InvalidCurrency);
        }

        if (info.Amount <= 0)
        {
            throw new ValidationException("amount", "must be greater than zero", ErrorCodes.NonPositiveAmount);
        }

        if (info.Amount > MaxAmount)
        {
            throw new ValidationException("amount", $"must be at most {MaxAmount}", ErrorCodes.LimitExceeded);
        }

        RequireDigits(info.Amount, info.Currency, "amount");
        if (info.Items is not { Count: > 0 } items)
        {
            return;
        }

        if (items.Count > MaxItems)
        {
            throw new ValidationException("displayItems", $"must be at most {MaxItems} items, has {items.Count}", ErrorCodes.TooManyItems);
        }

        for (var i = 0; i < items.Count; i++)
        {
            RequireText(items[i].Label, $"displayItems[{i}].label", MaxLabelLength);
            RequireDigits(items[i].Amount, info.Currency, $"displayItems[{i}].amount.value");
            if (Math.Abs(items[i].Amount) > MaxAmount)
            {
                throw new ValidationException($"displayItems[{i}].amount.value", $"must be at most {MaxAmount}", ErrorCodes.LimitExceeded);
            }
        }

        var sum = items.Sum(item => item.Amount);
        if (sum != info.Amount)
        {
            throw new ValidationException("displayItems", $"add up to {sum.ToString(CultureInfo.InvariantCulture)}, not the total {info.Amount.ToString(CultureInfo.InvariantCulture)}", ErrorCodes.ItemsMismatch);
        }
    }

    [GeneratedRegex(@"^-?[0-9]+(\.[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex MonetaryValue();
}
