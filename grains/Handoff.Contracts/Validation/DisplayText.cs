using System.Globalization;

namespace Handoff.Contracts.Validation;

/// <summary>
/// How amounts and times read on every surface (the CLI, the hub page, the devices' pages, which show the
/// text the server sends): an amount with its currency's minor-unit digits (ISO 4217) and its code, as in
/// <c>12.50 CNY</c>, <c>7 JPY</c> or <c>1.250 BHD</c>; a time of day on the 24-hour clock, <c>16:37:40</c>, in
/// this machine's time zone. Codes rather than symbols: one symbol stands for several currencies (¥, $).
/// </summary>
public static class DisplayText
{
    public const string TimeFormat = "HH:mm:ss";

    /// <summary>The time format with milliseconds, for a payment's steps, which often share a second.</summary>
    public const string StepTimeFormat = "HH:mm:ss.fff";

    public static string Money(decimal amount, string currency)
    {
        var digits = Iso4217.DigitsOf(currency) ?? 2;
        return string.Create(CultureInfo.InvariantCulture, $"{decimal.Round(amount, digits, MidpointRounding.ToEven).ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)} {currency}");
    }

    /// <summary>An amount given in the currency's minor units (cents, fen…), as a page's catalogue prices its items.</summary>
    public static string MoneyOfMinor(long minor, string currency) =>
        Money(minor / Pow10(Iso4217.DigitsOf(currency) ?? 2), currency);

    public static string Time(DateTimeOffset at) => at.ToLocalTime().ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static string StepTime(DateTimeOffset at) => at.ToLocalTime().ToString(StepTimeFormat, CultureInfo.InvariantCulture);

    private static decimal Pow10(int digits)
    {
        var scale = 1m;
        for (var i = 0; i < digits; i++)
        {
            scale *= 10;
        }

        return scale;
    }
}
