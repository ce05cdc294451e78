using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Handoff.Contracts.Security;

/// <summary>Signs with a device's private key; the key never leaves the device that holds it.</summary>
public interface IDeviceSigner
{
    /// <summary>True when this signer holds the private key of <paramref name="deviceId"/>.</summary>
    bool Holds(string deviceId);

    /// <summary>An ECDSA P-256 signature (IEEE P1363, 64 bytes) over <paramref name="payload"/>.</summary>
    byte[] Sign(string deviceId, byte[] payload);
}

/// <summary>
/// The exact bytes a device signs. Each statement starts with its kind and version, so a signature over
/// one kind can never be taken for another, and binds every field a device vouches for.
/// </summary>
public static class Signing
{
    /// <summary>A new ECDSA P-256 key pair.</summary>
    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The public key as DER SubjectPublicKeyInfo, as the household records it.</summary>
    public static byte[] PublicKeyOf(ECDsa key) => key.ExportSubjectPublicKeyInfo();

    /// <summary>True when <paramref name="signature"/> is the holder of <paramref name="publicKey"/>'s over <paramref name="payload"/>.</summary>
    public static bool Verify(byte[]? publicKey, byte[] payload, byte[]? signature)
    {
        if (publicKey is null || signature is not { Length: 64 })
        {
            return false;
        }

        return VerifyingKeys.Get(publicKey) is { } key
            && key.Use((payload, signature), static (copy, check) => copy.VerifyData(check.payload, check.signature, HashAlgorithmName.SHA256));
    }

    /// <summary>
    /// The payer's approval of the transaction it displayed: payment, parties (the approving device and every device
    /// the payment was offered to), terms, the single-use nonce and the payment program chosen to pay (empty: the
    /// device's own account). A member's request that a guardian decides is approved with
    /// <see cref="GuardianApproval"/> instead, so no payer approval can pass for a guardian's.
    /// </summary>
    public static byte[] Approval(PaymentOffer offer, AuthMethod method, string? programId = null) =>
        offer.Rule is { NeedsGuardian: true } ? GuardianApproval(offer, method, programId) : Statement(
        StatementKinds.Approval,
        offer.PaymentId,
        offer.HouseholdId,
        offer.InitiatorDeviceId,
        offer.PayerDeviceId,
        string.Join(',', offer.Candidates),
        Amount(offer.Info.Amount),
        offer.Info.Currency,
        offer.Info.Merchant,
        offer.Nonce,
        method.ToString(),
        programId ?? string.Empty);

    /// <summary>
    /// A guardian's approval of a member's request: it names the request it approves (the member who asked and the
    /// SHA-256 of the member's signed request, <see cref="RequestDigest"/>), then binds what a payer approval binds:
    /// payment, parties, terms, nonce, how the guardian verified and the guardian's program that pays.
    /// </summary>
    public static byte[] GuardianApproval(PaymentOffer offer, AuthMethod method, string? programId) => Statement(
        StatementKinds.GuardianApproval,
        offer.PaymentId,
        offer.HouseholdId,
        offer.InitiatorDeviceId,
        offer.AskedBy?.Id ?? string.Empty,
        offer.RequestDigest ?? string.Empty,
        offer.PayerDeviceId,
        string.Join(',', offer.Candidates),
        Amount(offer.Info.Amount),
        offer.Info.Currency,
        offer.Info.Merchant,
        offer.Nonce,
        method.ToString(),
        programId ?? string.Empty);

    /// <summary>The SHA-256 of an initiator's signed request statement (<see cref="Request"/>), in lower-case hex: how a guardian's approval names it.</summary>
    public static string RequestDigest(PaymentRequestInput input) => Digest(Request(input));

    /// <summary>The SHA-256 of a signed statement, in lower-case hex: how one statement names another.</summary>
    public static string Digest(byte[] statement) => Convert.ToHexStringLower(SHA256.HashData(statement));

    /// <summary>
    /// The WebAuthn challenge of a biometric approval: SHA-256 of the very statement the device key signs, so the
    /// platform authenticator's assertion is over this transaction (payment, household, parties, amount, currency,
    /// merchant, nonce) and no other, as in W3C Secure Payment Confirmation.
    /// </summary>
    public static byte[] ApprovalChallenge(PaymentOffer offer, string? programId = null) => SHA256.HashData(Approval(offer, AuthMethod.Biometric, programId));

    /// <summary>
    /// The short code the TV and the phone both show for a payment, so the person sees that the sheet is the one their
    /// TV asked for: six digits ("482 913") from the SHA-256 of the transaction (payment, household, initiator, amount,
    /// currency, merchant). Both ends compute it from what they hold; neither is told it. Every payer device offered
    /// the payment shows the same code.
    /// </summary>
    public static string MatchCode(string paymentId, string householdId, string initiatorDeviceId, PaymentInfo info)
    {
        var hash = SHA256.HashData(Statement(StatementKinds.Match, paymentId, householdId, initiatorDeviceId, Amount(info.Amount), info.Currency, info.Merchant));
        var number = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash) % 1_000_000;
        var digits = number.ToString("D6", CultureInfo.InvariantCulture);
        return $"{digits[..3]} {digits[3..]}";
    }

    /// <summary>The match code of an offer on the payer's sheet.</summary>
    public static string MatchCode(PaymentOffer offer) =>
        MatchCode(offer.PaymentId, offer.HouseholdId, offer.InitiatorDeviceId, offer.Info);

    /// <summary>The match code of a payment as its initiator sees it.</summary>
    public static string MatchCode(PaymentSnapshot payment) =>
        MatchCode(payment.PaymentId, payment.HouseholdId, payment.InitiatorDeviceId, payment.Info);

    /// <summary>
    /// An initiator's request for a payment, as it asked for it. A request with a category signs it too
    /// (<c>request/v2</c>); one without signs exactly what it always did.
    /// </summary>
    public static byte[] Request(PaymentRequestInput input) => input.Info.Category is { } category
        ? Statement(StatementKinds.RequestWithCategory, [.. RequestFields(input), category])
        : Statement(StatementKinds.Request, RequestFields(input));

    private static string[] RequestFields(PaymentRequestInput input) =>
    [
        input.HouseholdId,
        input.InitiatorDeviceId,
        input.PayerDeviceId,
        input.OrderKey,
        Amount(input.Info.Amount),
        input.Info.Currency,
        input.Info.Merchant,
        input.Info.Description ?? string.Empty,
        string.Join(";", (input.Info.Items ?? []).Select(item => $"{item.Label}={Amount(item.Amount)}")),
        input.ExpiresIn?.TotalSeconds.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
    ];

    /// <summary>A device's proof that it holds its key, over the hub's fresh challenge: what it signs to open a session.</summary>
    public static byte[] Session(string deviceId, string challenge) => Statement(StatementKinds.Session, deviceId, challenge);

    /// <summary>A party's cancellation of a payment.</summary>
    public static byte[] Cancel(string paymentId, string deviceId) => Statement(StatementKinds.Cancel, paymentId, deviceId);

    /// <summary>The initiator's request to give back <paramref name="amount"/> (null: all that is left) of a payment, under its refund key.</summary>
    public static byte[] Refund(string paymentId, string initiatorDeviceId, string refundKey, decimal? amount) =>
        Statement(StatementKinds.Refund, paymentId, initiatorDeviceId, refundKey, amount is { } value ? Amount(value) : RestOfPayment);

    /// <summary>The payer's refusal of a payment, with its reason.</summary>
    public static byte[] Decline(string paymentId, string payerDeviceId, string nonce, string reason) =>
        Statement(StatementKinds.Decline, paymentId, payerDeviceId, nonce, reason);

    /// <summary>What a refund of all that is left of a payment signs for its amount.</summary>
    public const string RestOfPayment = "rest";

    private const string Prefix = "handoff/";

    // The fields of each kind of statement, in the order they are signed: one list, for writing and for reading back.
    private static readonly Dictionary<string, string[]> Layouts = new(StringComparer.Ordinal)
    {
        [StatementKinds.Approval] =
        [
            StatementField.Payment, StatementField.Household, StatementField.Initiator, StatementField.Payer, StatementField.Candidates,
            StatementField.Amount, StatementField.Currency, StatementField.Merchant, StatementField.Nonce, StatementField.Method, StatementField.Program,
        ],
        [StatementKinds.GuardianApproval] =
        [
            StatementField.Payment, StatementField.Household, StatementField.Initiator, StatementField.AskedBy, StatementField.RequestDigest,
            StatementField.Payer, StatementField.Candidates, StatementField.Amount, StatementField.Currency, StatementField.Merchant,
            StatementField.Nonce, StatementField.Method, StatementField.Program,
        ],
        [StatementKinds.Request] = RequestLayout,
        [StatementKinds.RequestWithCategory] = [.. RequestLayout, StatementField.Category],
        [StatementKinds.Refund] = [StatementField.Payment, StatementField.Initiator, StatementField.RefundKey, StatementField.Amount],
        [StatementKinds.Session] = [StatementField.Device, StatementField.Challenge],
        [StatementKinds.Cancel] = [StatementField.Payment, StatementField.Device],
        [StatementKinds.Decline] = [StatementField.Payment, StatementField.Payer, StatementField.Nonce, StatementField.Reason],
        [StatementKinds.Match] =
        [
            StatementField.Payment, StatementField.Household, StatementField.Initiator, StatementField.Amount, StatementField.Currency, StatementField.Merchant,
        ],
    };

    private static string[] RequestLayout =>
    [
        StatementField.Household, StatementField.Initiator, StatementField.Payer, StatementField.OrderKey, StatementField.Amount, StatementField.Currency,
        StatementField.Merchant, StatementField.Description, StatementField.Items, StatementField.ExpiresIn,
    ];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// A statement read back into its kind and its fields by name, as <see cref="Layouts"/> lays them out; null when the
    /// bytes are not a statement of a kind this version writes (not UTF-8, no <c>handoff/</c> kind line, a field cut
    /// short or one too many or too few).
    /// </summary>
    public static StatementTerms? Read(byte[] statement)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(statement);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var line = text.IndexOf('\n', StringComparison.Ordinal);
        if (!text.StartsWith(Prefix, StringComparison.Ordinal) || line < 0 || !Layouts.TryGetValue(text[Prefix.Length..line], out var layout))
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var at = line + 1;
        foreach (var name in layout)
        {
            var colon = text.IndexOf(':', at);
            if (colon < 0
                || !int.TryParse(text.AsSpan(at, colon - at), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                || length > text.Length - colon - 2
                || text[colon + 1 + length] != '\n')
            {
                return null;
            }

            fields[name] = text.Substring(colon + 1, length);
            at = colon + 2 + length;
        }

        return at == text.Length ? new StatementTerms(text[Prefix.Length..line], fields) : null;
    }

    // One field per line, each length-prefixed: no field can be shifted into its neighbour.
    private static byte[] Statement(string kind, params string[] fields)
    {
        if (Layouts[kind].Length != fields.Length)
        {
            throw new InvalidOperationException($"a {kind} statement has {Layouts[kind].Length} fields, not {fields.Length}");
        }

        var text = new StringBuilder(Prefix).Append(kind).Append('\n');
        foreach (var field in fields)
        {
            text.Append(field.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(field).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    // 12.5 and 12.50 are the same amount and must sign the same.
    private static string Amount(decimal amount) => (amount / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);
}

/// <summary>The kinds of statement a device signs, with their versions: the first line of each.</summary>
public static class StatementKinds
{
    public const string Approval = "approval/v3";
    public const string GuardianApproval = "guardian-approval/v1";
    public const string Request = "request/v1";
    public const string RequestWithCategory = "request/v2";
    public const string Refund = "refund/v1";
    public const string Session = "session/v1";
    public const string Cancel = "cancel/v1";
    public const string Decline = "decline/v1";
    public const string Match = "match/v2";
}

/// <summary>The names of the fields of a statement, as <see cref="Signing.Read"/> gives them back.</summary>
public static class StatementField
{
    public const string Payment = "payment";
    public const string Household = "household";
    public const string Initiator = "initiator";
    public const string Payer = "payer";
    public const string Candidates = "candidates";
    public const string Amount = "amount";
    public const string Currency = "currency";
    public const string Merchant = "merchant";
    public const string Nonce = "nonce";
    public const string Method = "method";
    public const string Program = "program";
    public const string AskedBy = "askedBy";
    public const string RequestDigest = "requestDigest";
    public const string OrderKey = "orderKey";
    public const string Description = "description";
    public const string Items = "items";
    public const string ExpiresIn = "expiresIn";
    public const string Category = "category";
    public const string RefundKey = "refundKey";
    public const string Device = "device";
    public const string Challenge = "challenge";
    public const string Reason = "reason";
}

/// <summary>A signed statement read back (<see cref="Signing.Read"/>): its kind and version, and its fields by <see cref="StatementField"/> name.</summary>
public sealed record StatementTerms(string Kind, IReadOnlyDictionary<string, string> Fields)
{
    public string this[string field] => Fields[field];

    /// <summary>An initiator's request for a payment, of any version.</summary>
    public bool IsRequest => Kind is StatementKinds.Request or StatementKinds.RequestWithCategory;

    /// <summary>A payer's or a guardian's approval of a payment.</summary>
    public bool IsApproval => Kind is StatementKinds.Approval or StatementKinds.GuardianApproval;

    public bool IsGuardianApproval => Kind == StatementKinds.GuardianApproval;

    public bool IsRefund => Kind == StatementKinds.Refund;

    /// <summary>The device that signs a statement of this kind, as the statement names it (null for a kind that names none).</summary>
    public string? Signer => Kind switch
    {
        StatementKinds.Request or StatementKinds.RequestWithCategory or StatementKinds.Refund => Fields[StatementField.Initiator],
        StatementKinds.Approval or StatementKinds.GuardianApproval or StatementKinds.Decline => Fields[StatementField.Payer],
        StatementKinds.Session or StatementKinds.Cancel => Fields[StatementField.Device],
        _ => null,
    };

    /// <summary>A field that holds an amount, as a number; null when it holds none (a refund of <see cref="Signing.RestOfPayment"/>).</summary>
    public decimal? AmountOf(string field) =>
        decimal.TryParse(Fields[field], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) ? amount : null;
}

/// <summary>
/// Public keys imported once: importing a key costs more than checking a signature with it. Bounded: when
/// full, it starts over (a device's key is imported again on its next check).
/// </summary>
internal static class VerifyingKeys
{
    private const int Capacity = 4096;
    private static readonly ConcurrentDictionary<byte[], KeyCopies?> Keys = new(ByteContent.Comparer);

    /// <summary>Copies of the P-256 key of <paramref name="publicKey"/> (DER SubjectPublicKeyInfo), or null when it is not one.</summary>
    public static KeyCopies? Get(byte[] publicKey)
    {
        if (Keys.TryGetValue(publicKey, out var cached))
        {
            return cached;
        }

        if (Keys.Count >= Capacity)
        {
            Keys.Clear();
        }

        // The array is the device record's; keep a copy so no later change of it can alias another key.
        return Keys.GetOrAdd((byte[])publicKey.Clone(), static key => Import(key) is { } first ? new KeyCopies(first, () => Import(key)!) : null);
    }

    private static ECDsa? Import(byte[] publicKey)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(publicKey, out var read);
            if (read == publicKey.Length && key.KeySize == 256)
            {
                return key;
            }
        }
        catch (CryptographicException)
        {
        }

        key.Dispose();
        return null;
    }

    private sealed class ByteContent : IEqualityComparer<byte[]>
    {
        public static ByteContent Comparer { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes)
        {
            var hash = default(HashCode);
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}

/// <summary>
/// Interchangeable copies of one ECDSA key. An ECDsa object is not safe for concurrent use, and one lock per key
/// makes the concurrent checks of a busy device queue behind each other: each use takes an idle copy, or makes one.
/// </summary>
internal sealed class KeyCopies(ECDsa first, Func<ECDsa> copy)
{
    private const int KeepIdle = 8;

    // A queue and a count of its own: ConcurrentBag.Count takes every lock of the bag, on every use.
    private readonly ConcurrentQueue<ECDsa> _idle = new([first]);
    private int _idleCount = 1;

    public TResult Use<TState, TResult>(TState state, Func<ECDsa, TState, TResult> work)
    {
        if (_idle.TryDequeue(out var key))
        {
            Interlocked.Decrement(ref _idleCount);
        }
        else
        {
            key = copy();
        }

        try
        {
            return work(key, state);
        }
        finally
        {
            if (Interlocked.Increment(ref _idleCount) <= KeepIdle)
            {
                _idle.Enqueue(key);
            }
            else
            {
                Interlocked.Decrement(ref _idleCount);
                key.Dispose();
            }
        }
    }
}

/// <summary>An in-memory signer over ECDSA keys the process holds (a device agent's keys, loaded from its key files).</summary>
public sealed class KeyRingSigner : IDeviceSigner
{
    private readonly ConcurrentDictionary<string, (ECDsa Key, KeyCopies Copies)> _keys = new(StringComparer.Ordinal);
    private volatile string[] _deviceIds = [];

    public void Add(string deviceId, ECDsa key)
    {
        _keys[deviceId] = (key, new KeyCopies(CopyOf(key), () => CopyOf(key)));
        _deviceIds = [.. _keys.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The public half of a device's key, as the household records it.</summary>
    public byte[] PublicKeyOf(string deviceId) =>
        _keys.TryGetValue(deviceId, out var found) ? Signing.PublicKeyOf(found.Key) : throw new InvalidOperationException($"no key for device '{deviceId}'");

    public bool Holds(string deviceId) => _keys.ContainsKey(deviceId);

    /// <summary>The devices whose keys this ring holds.</summary>
    public IReadOnlyList<string> DeviceIds => _deviceIds;

    public byte[] Sign(string deviceId, byte[] payload) =>
        _keys.TryGetValue(deviceId, out var found)
            ? found.Copies.Use(payload, static (key, data) => key.SignData(data, HashAlgorithmName.SHA256))
            : throw new InvalidOperationException($"no private key for device '{deviceId}' on this device");

    // The signing copies never touch the caller's object, which stays the caller's to use (and to lock).
    private static ECDsa CopyOf(ECDsa key)
    {
        lock (key)
        {
            var copy = ECDsa.Create();
            copy.ImportParameters(key.ExportParameters(includePrivateParameters: true));
            return copy;
        }
    }
}
