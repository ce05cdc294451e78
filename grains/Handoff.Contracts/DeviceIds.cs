using System.Buffers;

namespace Handoff.Contracts;

/// <summary>The one rule for device and household ids: 1-64 letters, digits, '-', '_', '.' or ':'.</summary>
public static class DeviceIds
{
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    public static bool IsValid(string? id) => id is { Length: > 0 and <= 64 } && !id.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>Throws a <see cref="ValidationException"/> naming <paramref name="field"/> unless <paramref name="id"/> is valid.</summary>
    public static string Require(string? id, string field) =>
        string.IsNullOrEmpty(id) ? throw new ValidationException(field, "is required", ErrorCodes.MissingField)
        : IsValid(id) ? id
        : throw new ValidationException(field, $"'{id}' must be 1-64 letters, digits, '-', '_', '.' or ':'", ErrorCodes.InvalidId);
}
