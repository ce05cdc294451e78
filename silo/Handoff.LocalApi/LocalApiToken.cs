using System.Buffers.Text;
using System.Security.Cryptography;
using Handoff.Contracts;

namespace Handoff.LocalApi;

/// <summary>
/// An agent's per-launch token for its local API: made at start, put into the page the agent serves, and written
/// to <c>{folder}/{agent}-{port}.token</c> beside the device keys, readable by the owner alone, so that the owner's
/// own tools (<c>handoff approve</c>) can send it. A page of another origin can read neither.
/// </summary>
public static class LocalApiToken
{
    /// <summary>The agent names of the token files: <c>payer-5181.token</c>, <c>initiator-5171.token</c>.</summary>
    public const string PayerAgent = "payer";

    public const string InitiatorAgent = "initiator";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static string PathOf(string folder, string agent, int port) =>
        Path.Combine(folder, $"{DeviceIds.Require(agent, "agent")}-{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}.token");

    /// <summary>A fresh token, written to its file (replacing the one of an earlier launch on the same port).</summary>
    public static string Issue(string folder, string agent, int port)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(LocalApiRules.TokenBytes));
        var path = PathOf(folder, agent, port);
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        // Written aside and moved over the old file: an existing file keeps its mode when rewritten, a new one is born private.
        var aside = $"{path}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var file = new StreamWriter(aside, System.Text.Encoding.ASCII, options))
        {
            file.Write(token);
        }

        File.Move(aside, path, overwrite: true);
        return token;
    }

    /// <summary>The token of the agent listening on <paramref name="port"/>, as its launch wrote it.</summary>
    public static string Read(string folder, string agent, int port)
    {
        var path = PathOf(folder, agent, port);
        return File.Exists(path)
            ? File.ReadAllText(path).Trim()
            : throw new NotFoundException(
                $"no token of a {agent} agent on port {port} at {Path.GetFullPath(path)}: is one running there? Run this as its user, with its --keys folder");
    }
}
