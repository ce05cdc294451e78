namespace Handoff.Contracts;

/// <summary>
/// Whom a request asks to pay, as the initiator names it in <see cref="PaymentRequestInput.PayerDeviceId"/>: one payer
/// device (<c>phone-1</c>), several separated by commas (<c>phone-1,watch-1</c>), or <c>any</c> (every capable payer
/// device of the household that is online when the request arrives). Every device named that is online is shown the
/// sheet; the first verified approval pays.
/// </summary>
public static class PayerChoice
{
    /// <summary>Every capable, online payer device of the household.</summary>
    public const string Any = "any";

    /// <summary>The most devices one request may name.</summary>
    public const int MaxNamed = 8;

    public static bool IsAny(string choice) => string.Equals(choice, Any, StringComparison.Ordinal);

    /// <summary>The devices a choice names (none for <c>any</c>), each checked, in the order given.</summary>
    public static IReadOnlyList<string> Named(string? choice, string field = "payer")
    {
        if (string.IsNullOrEmpty(choice))
        {
            throw new ValidationException(field, "is required", ErrorCodes.MissingField);
        }

        if (IsAny(choice))
        {
            return [];
        }

        var named = choice.Split(',', StringSplitOptions.TrimEntries);
        if (named.Length > MaxNamed)
        {
            throw new ValidationException(field, $"names {named.Length} devices; at most {MaxNamed}", ErrorCodes.InvalidId);
        }

        foreach (var device in named)
        {
            DeviceIds.Require(device, field);
            if (IsAny(device))
            {
                throw new ValidationException(field, "'any' stands alone: it already means every payer device", ErrorCodes.InvalidId);
            }
        }

        return named.Distinct(StringComparer.Ordinal).Count() == named.Length
            ? named
            : throw new ValidationException(field, $"'{choice}' names a device twice", ErrorCodes.InvalidId);
    }

    /// <summary>The choice written as a request carries it: the devices joined by commas, or <c>any</c>.</summary>
    public static string Of(IEnumerable<string> devices)
    {
        var list = devices.ToList();
        return list.Count == 0 ? Any : string.Join(',', list);
    }
}
