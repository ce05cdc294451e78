using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Cli.Load;

/// <summary>
/// A test double of a phone's platform authenticator (fingerprint, face unlock) together with the browser in front
/// of it: an ECDSA P-256 credential made in memory, attestation "none", and real WebAuthn assertions
/// (authenticator data = SHA-256(rpId) | flags | counter, client data JSON with the challenge and origin, an ES256
/// signature over authenticator data || SHA-256(client data)). Load runs approve with it so that every biometric
/// approval still goes through the hub's WebAuthn verification; the grain tests use it to break one rule at a time.
/// It verifies no person: it says "user verified" because it is told to.
/// </summary>
internal sealed class SoftwarePlatformAuthenticator : IDisposable
{
    /// <summary>The origin of the payer page this double stands behind (no page is served there).</summary>
    public const string DefaultOrigin = "http://localhost:5181";

    private const byte UserPresent = 0x01;
    private const byte UserVerified = 0x04;
    private const byte AttestedCredentialData = 0x40;

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    // One prompt at a time, as on a phone: the counters of its assertions reach the hub in the order they were made.
    private readonly SemaphoreSlim _prompt = new(1, 1);
    private byte[]? _userHandle;
    private uint _signCount;

    public SoftwarePlatformAuthenticator(string origin = DefaultOrigin)
    {
        Origin = origin;
    }

    public string Origin { get; }

    public byte[] CredentialId { get; } = RandomNumberGenerator.GetBytes(16);

    /// <summary>The counter of the last assertion made.</summary>
    public uint SignCount => Volatile.Read(ref _signCount);

    /// <summary>Answers creation options (the hub's JSON) the way <c>navigator.credentials.create</c> would on <see cref="Origin"/>.</summary>
    public WebAuthnAttestation Attest(string creationOptionsJson)
    {
        using var options = JsonDocument.Parse(creationOptionsJson);
        var root = options.RootElement;
        var rpId = root.GetProperty("rp").GetProperty("id").GetString()!;
        if (!root.GetProperty("pubKeyCredParams").EnumerateArray().Any(param => param.GetProperty("alg").GetInt32() == -7))
        {
            throw new InvalidOperationException("the relying party does not accept ES256, the only algorithm of this authenticator");
        }

        _userHandle = Base64Url.DecodeFromChars(root.GetProperty("user").GetProperty("id").GetString());
        var clientData = ClientData("webauthn.create", root.GetProperty("challenge").GetString()!, Origin);
        var parameters = _key.ExportParameters(includePrivateParameters: false);

        var authenticatorData = new List<byte>(AuthenticatorData(rpId, (byte)(UserPresent | UserVerified | AttestedCredentialData), signCount: 0));
        authenticatorData.AddRange(new byte[16]); // AAGUID: none, as a "none" attestation may say
        authenticatorData.Add((byte)(CredentialId.Length >> 8));
        authenticatorData.Add((byte)CredentialId.Length);
        authenticatorData.AddRange(CredentialId);
        authenticatorData.AddRange(CoseKey(parameters.Q.X!, parameters.Q.Y!));

        var attestation = new CborWriter(CborConformanceMode.Ctap2Canonical);
        attestation.WriteStartMap(3);
        attestation.WriteTextString("fmt");
        attestation.WriteTextString("none");
        attestation.WriteTextString("attStmt");
        attestation.WriteStartMap(0);
        attestation.WriteEndMap();
        attestation.WriteTextString("authData");
        attestation.WriteByteString([.. authenticatorData]);
        attestation.WriteEndMap();
        return new WebAuthnAttestation(CredentialId, clientData, attestation.Encode());
    }

    /// <summary>
    /// An assertion over <paramref name="challenge"/>, as <c>navigator.credentials.get</c> would give it, with the
    /// counter one up. The optional arguments break one rule each, for the tests of the hub's checks.
    /// </summary>
    public WebAuthnAssertion Assert(byte[] challenge, bool userVerified = true, string? origin = null, uint? signCount = null)
    {
        var counter = signCount ?? Interlocked.Increment(ref _signCount);
        var authenticatorData = AuthenticatorData(WebAuthn.RelyingPartyId, (byte)(UserPresent | (userVerified ? UserVerified : 0)), counter);
        var clientData = ClientData("webauthn.get", Base64Url.EncodeToString(challenge), origin ?? Origin);
        byte[] signed = [.. authenticatorData, .. SHA256.HashData(clientData)];
        var signature = _key.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new WebAuthnAssertion(CredentialId, clientData, authenticatorData, signature, _userHandle);
    }

    /// <summary>Runs one approval at a time on this authenticator (its prompt, then the authority's answer).</summary>
    public async Task<T> PromptAsync<T>(Func<Task<T>> approval)
    {
        await _prompt.WaitAsync();
        try
        {
            return await approval();
        }
        finally
        {
            _prompt.Release();
        }
    }

    public void Dispose()
    {
        _key.Dispose();
        _prompt.Dispose();
    }

    private static byte[] AuthenticatorData(string rpId, byte flags, uint signCount)
    {
        var data = new byte[37];
        SHA256.HashData(Encoding.UTF8.GetBytes(rpId), data);
        data[32] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(33), signCount);
        return data;
    }

    private static byte[] ClientData(string type, string challenge, string origin) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["type"] = type,
            ["challenge"] = challenge,
            ["origin"] = origin,
            ["crossOrigin"] = false,
        });

    // COSE_Key of an EC2 P-256 key for ES256: kty 2, alg -7, crv 1, x, y.
    private static byte[] CoseKey(byte[] x, byte[] y)
    {
        var key = new CborWriter(CborConformanceMode.Ctap2Canonical);
        key.WriteStartMap(5);
        key.WriteInt32(1);
        key.WriteInt32(2);
        key.WriteInt32(3);
        key.WriteInt32(-7);
        key.WriteInt32(-1);
        key.WriteInt32(1);
        key.WriteInt32(-2);
        key.WriteByteString(x);
        key.WriteInt32(-3);
        key.WriteByteString(y);
        key.WriteEndMap();
        return key.Encode();
    }
}

/// <summary>The software authenticators of a load run's simulated payer devices, one each, registered with the hub.</summary>
internal sealed class SoftwareAuthenticators : IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SoftwarePlatformAuthenticator> _byDevice = new(StringComparer.Ordinal);

    public SoftwarePlatformAuthenticator Of(string deviceId) =>
        _byDevice.TryGetValue(deviceId, out var authenticator)
            ? authenticator
            : throw new InvalidOperationException($"no software authenticator registered for device '{deviceId}'");

    /// <summary>Registers a new authenticator for <paramref name="deviceId"/> through the payer's own path: begin, attest, complete.</summary>
    public async Task RegisterAsync(string deviceId, Handoff.Grains.Payer.PlatformCredentials credentials)
    {
        var authenticator = new SoftwarePlatformAuthenticator();
        var options = await credentials.BeginAsync(deviceId, authenticator.Origin);
        await credentials.CompleteAsync(deviceId, authenticator.Attest(options));
        if (_byDevice.TryRemove(deviceId, out var replaced))
        {
            replaced.Dispose();
        }

        _byDevice[deviceId] = authenticator;
    }

    public void Dispose()
    {
        foreach (var authenticator in _byDevice.Values)
        {
            authenticator.Dispose();
        }

        _byDevice.Clear();
    }
}
