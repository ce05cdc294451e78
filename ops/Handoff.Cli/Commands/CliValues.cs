using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Handoff.Cli.Commands;

/// <summary>
/// The command line's one reading of a time (<c>500ms</c>, <c>15s</c>, <c>2m</c>, <c>1h</c>; a bare number is
/// seconds) and of a choice among fixed values; a value it cannot read is a parse error that names the option
/// and what it accepts.
/// </summary>
internal static class CliValues
{
    private static readonly (string Suffix, double Seconds)[] Units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];

    /// <summary>A time given on the command line, or null when <paramref name="text"/> is not one.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var value = text.Trim();
        var scale = 1.0;
        foreach (var (suffix, seconds) in Units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _))
            {
                value = value[..^suffix.Length];
                scale = seconds;
                break;
            }
        }

        return double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number * scale) && number * scale <= TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(number * scale)
            : null;
    }

    /// <summary>An option holding a time; <paramref name="defaultValue"/> (a duration text) when not given.</summary>
    public static Option<TimeSpan?> Duration(string name, string description, string? defaultValue = null)
    {
        var option = new Option<TimeSpan?>(name)
        {
            Description = description,
            HelpName = "TIME",
            CustomParser = result => Read(result, name),
        };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => ParseDuration(defaultValue);
        }

        return option;
    }

    /// <summary>An option holding one of <paramref name="allowed"/> (written in lower case on the command line).</summary>
    public static Option<T> OneOf<T>(string name, string description, T defaultValue, params T[] allowed)
        where T : struct, Enum
    {
        var names = string.Join(", ", allowed.Select(Name));
        return new Option<T>(name)
        {
            Description = $"{description}: {string.Join(" or ", allowed.Select(Name))}",
            HelpName = string.Join("|", allowed.Select(Name)),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                foreach (var value in allowed)
                {
                    if (string.Equals(Name(value), text, StringComparison.OrdinalIgnoreCase))
                    {
                        return value;
                    }
                }

                result.AddError($"{name}: '{text}' is not one of {names}");
                return defaultValue;
            },
        };
    }

    private static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static TimeSpan? Read(ArgumentResult result, string name)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (ParseDuration(text) is { } duration)
        {
            return duration;
        }

        result.AddError($"{name}: '{text}' is not a time such as 500ms, 15s or 2m (a bare number is seconds)");
        return null;
    }
}
