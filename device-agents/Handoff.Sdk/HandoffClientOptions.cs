using System.Net;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Sdk;

/// <summary>Where the household is and which device this app runs on.</summary>
public sealed class HandoffClientOptions
{
    public const string DefaultGateway = "127.0.0.1:30000";

    /// <summary>The household to join [default: <c>HANDOFF_HOUSEHOLD</c>, else <c>home</c>, as for the CLI].</summary>
    public string HouseholdId { get; set; } = Environment.GetEnvironmentVariable("HANDOFF_HOUSEHOLD") is { Length: > 0 } household ? household : "home";

    /// <summary>This device's id; every request is made as this device.</summary>
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>Gateways of the household's hub silos, as <c>host:port</c> [default: <c>HANDOFF_GATEWAY</c>, else <c>127.0.0.1:30000</c>].</summary>
    public IList<string> Gateways { get; } = [Environment.GetEnvironmentVariable("HANDOFF_GATEWAY") is { Length: > 0 } gateway ? gateway : DefaultGateway];

    /// <summary>The Orleans cluster id the household's silos use [default: the household's own].</summary>
    public string? ClusterId { get; set; }

    /// <summary>
    /// Finds the gateways some other way than <see cref="Gateways"/> (for example, a cluster's membership
    /// table); when set, <see cref="Gateways"/> is ignored.
    /// </summary>
    public Action<IClientBuilder>? Clustering { get; set; }

    /// <summary>
    /// Extra configuration of the Orleans client (telemetry, for example), applied after the clustering; unlike
    /// <see cref="Clustering"/> it keeps <see cref="Gateways"/>.
    /// </summary>
    public Action<IClientBuilder>? ConfigureClient { get; set; }

    /// <summary>
    /// Holds this device's private key, to sign its requests. When null, <see cref="HandoffClient.ConnectAsync"/>
    /// loads the device's key file (<see cref="DeviceKeyFile"/>) from <see cref="KeysFolder"/>.
    /// </summary>
    public IDeviceSigner? Signer { get; set; }

    /// <summary>
    /// The hub's admin token: when set, the client acts as the household's administrator (reads of every device
    /// and payment, pairing codes) instead of as <see cref="DeviceId"/>.
    /// </summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// The folder of this machine's device keys, where pairing saved <c>{DeviceId}.key</c> [default:
    /// <c>HANDOFF_KEYS</c>, else <c>keys/</c> in the data folder (<see cref="DataFolder"/>)].
    /// </summary>
    public string? KeysFolder { get; set; }

    /// <summary>The household's certificate: when set, the connection to the gateway is mutual TLS with it.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// How long a connection keeps trying once a gateway's port answers: a stopped hub fails at once (nothing listens),
    /// while a hub that is up but busy on a small machine (two cores running a household) may take some seconds to
    /// finish the handshake, so the default is generous.
    /// </summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="HandoffClient.ConnectAsync"/> keeps trying to reach a gateway (<see cref="DefaultConnectTimeout"/>).</summary>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    /// <summary>Parses <c>host:port</c> into an endpoint, naming the bad value on failure.</summary>
    public static IPEndPoint ParseEndpoint(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
        {
            throw new FormatException($"'{value}' is not host:port");
        }

        var host = value[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        var resolved = Dns.GetHostAddresses(host).FirstOrDefault()
            ?? throw new FormatException($"host '{host}' does not resolve");
        return new IPEndPoint(resolved, port);
    }
}
