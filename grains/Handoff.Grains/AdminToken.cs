using System.Security.Cryptography;
using System.Text;
using Handoff.Contracts;
using Microsoft.Extensions.Options;

namespace Handoff.Grains;

/// <summary>
/// The hub's admin secret: issuing pairing codes, renaming and removing devices need it. It lives only
/// on the hub machine (a file in its data folder, or configuration shared by a cluster's hubs).
/// </summary>
public sealed class AdminToken(IOptions<HandoffOptions> options)
{
    /// <summary>Throws <see cref="ForbiddenException"/> unless <paramref name="token"/> is this hub's admin token.</summary>
    public void Require(string? token)
    {
        var expected = options.Value.AdminToken;
        if (string.IsNullOrEmpty(expected))
        {
            throw new ForbiddenException("this hub has no admin token configured (Handoff:AdminToken)");
        }

        if (token is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(expected)))
        {
            throw new ForbiddenException("the admin token is not this hub's");
        }
    }
}
