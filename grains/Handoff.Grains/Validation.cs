using Handoff.Contracts;
using Handoff.Contracts.Validation;

namespace Handoff.Grains;

/// <summary>Checks on request fields; each failure names the field.</summary>
internal static class Validation
{
    public static void RequireId(string? value, string field) => DeviceIds.Require(value, field);

    public static void RequireText(string? value, string field, int maxLength) => PaymentRules.RequireText(value, field, maxLength);

    public static void RequirePayment(PaymentRequestInput input, HandoffOptions options)
    {
        RequireId(input.HouseholdId, "householdId");
        RequireId(input.InitiatorDeviceId, "initiator");
        var payers = PayerChoice.Named(input.PayerDeviceId);
        RequireText(input.OrderKey, "orderKey", 128);
        PaymentRules.Check(input.Info);
        if (payers.Contains(input.InitiatorDeviceId))
        {
            throw new ValidationException("payer", "must be a different device from the initiator", ErrorCodes.SameDevice);
        }

        if (input.ExpiresIn is { } expiresIn && (expiresIn < TimeSpan.FromSeconds(5) || expiresIn > options.MaxExpiry))
        {
            throw new ValidationException("expiresIn", $"must be between 5 seconds and {options.MaxExpiry.TotalSeconds:0} seconds", ErrorCodes.InvalidExpiry);
        }

        var limit = options.SpendingLimitFor(input.Info.Currency);
        if (input.Info.Amount > limit)
        {
            throw new ValidationException("amount", $"{input.Info.Amount} {input.Info.Currency} is over the household's spending limit of {limit} {input.Info.Currency}", ErrorCodes.LimitExceeded);
        }
    }
}
