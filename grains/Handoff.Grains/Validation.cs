using Handoff.Contracts;

namespace Handoff.Grains;

/// <summary>Checks on request fields; each failure names the field.</summary>
internal static class Validation
{
    public static void RequireId(string? value, string field) => DeviceIds.Require(value, field);

    public static void RequireText(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ValidationException(field, "is required");
        }

        if (value.Length > maxLength)
        {
            throw new ValidationException(field, $"must be at most {maxLength} characters");
        }

        if (value.Any(char.IsControl))
        {
            throw new ValidationException(field, "must not contain control characters");
        }
    }

    public static void RequirePayment(PaymentRequestInput input, TimeSpan maxExpiry)
    {
        RequireId(input.HouseholdId, "householdId");
        RequireId(input.InitiatorDeviceId, "initiator");
        RequireId(input.PayerDeviceId, "payer");
        RequireText(input.OrderKey, "orderKey", 128);
        if (input.Info is null)
        {
            throw new ValidationException("payment", "is required");
        }

        RequireText(input.Info.Merchant, "merchant", 100);
        if (input.Info.Description is not null)
        {
            RequireText(input.Info.Description, "description", 200);
        }

        if (input.Info.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
        {
            throw new ValidationException("currency", "must be a three-letter upper-case ISO 4217 code such as CNY");
        }

        if (input.Info.Amount <= 0)
        {
            throw new ValidationException("amount", "must be greater than zero");
        }

        if (input.Info.Amount > 1_000_000m)
        {
            throw new ValidationException("amount", "must be at most 1000000");
        }

        if (input.Info.Amount.Scale > 2 && decimal.Round(input.Info.Amount, 2) != input.Info.Amount)
        {
            throw new ValidationException("amount", "must have at most two decimal places");
        }

        if (input.PayerDeviceId == input.InitiatorDeviceId)
        {
            throw new ValidationException("payer", "must be a different device from the initiator");
        }

        if (input.ExpiresIn is { } expiresIn && (expiresIn < TimeSpan.FromSeconds(5) || expiresIn > maxExpiry))
        {
            throw new ValidationException("expiresIn", $"must be between 5 seconds and {maxExpiry.TotalSeconds:0} seconds");
        }
    }
}
