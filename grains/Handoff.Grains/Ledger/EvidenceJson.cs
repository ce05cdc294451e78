using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Handoff.Contracts;

namespace Handoff.Grains.Ledger;

/// <summary>
/// How a journal row keeps its <see cref="ChargeEvidence"/>: compact UTF-8 JSON, readable with plain SQL. A statement is
/// its own text (a JSON string, the bytes signed), a signature and a key are base64:
/// <c>{"v":1,"signed":[{"device":"tv-1","statement":"handoff/request/v1\n4:home\n…","signature":"…","key":"…"},…]}</c>;
/// a top-up is <c>{"v":1,"by":"admin"}</c> and a budget's refill <c>{"v":1,"by":"rules"}</c>.
/// </summary>
public static class EvidenceJson
{
    private const string VersionName = "v";
    private const string SignedName = "signed";
    private const string ByName = "by";
    private const string DeviceName = "device";
    private const string StatementName = "statement";
    private const string SignatureName = "signature";
    private const string KeyName = "key";

    // Only what JSON needs escaped (quotes, backslashes, control characters): '+' of base64 or a merchant's 'é' stays one character.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The row's JSON text of <paramref name="evidence"/>, or null for none.</summary>
    public static string? Encode(ChargeEvidence? evidence)
    {
        if (evidence is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber(VersionName, evidence.Version);
            switch (evidence.Basis)
            {
                case EvidenceBasis.AdminToken:
                    writer.WriteString(ByName, "admin");
                    break;
                case EvidenceBasis.HouseholdRules:
                    writer.WriteString(ByName, "rules");
                    break;
                default:
                    writer.WriteStartArray(SignedName);
                    foreach (var signed in evidence.Signed)
                    {
                        writer.WriteStartObject();
                        writer.WriteString(DeviceName, signed.DeviceId);
                        writer.WriteString(StatementName, StrictUtf8.GetString(signed.Statement));
                        writer.WriteBase64String(SignatureName, signed.Signature);
                        writer.WriteBase64String(KeyName, signed.PublicKey);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                    break;
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The evidence a row's JSON text holds; throws <see cref="InvalidDataException"/>, naming what is wrong, for text that holds none.</summary>
    public static ChargeEvidence Decode(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var version = root.GetProperty(VersionName).GetInt32();
            if (version != ChargeEvidence.CurrentVersion)
            {
                throw new InvalidDataException($"evidence of version {version}, which this version does not read (it reads {ChargeEvidence.CurrentVersion})");
            }

            if (root.TryGetProperty(ByName, out var by))
            {
                return by.GetString() switch
                {
                    "admin" => ChargeEvidence.TopUp,
                    "rules" => ChargeEvidence.Refill,
                    var other => throw new InvalidDataException($"evidence by '{other}', which is neither 'admin' nor 'rules'"),
                };
            }

            var signed = root.GetProperty(SignedName).EnumerateArray().Select(statement => new SignedStatement(
                statement.GetProperty(DeviceName).GetString() ?? throw new InvalidDataException("a signed statement without its device"),
                Encoding.UTF8.GetBytes(statement.GetProperty(StatementName).GetString() ?? throw new InvalidDataException("a signed statement without its text")),
                statement.GetProperty(SignatureName).GetBytesFromBase64(),
                statement.GetProperty(KeyName).GetBytesFromBase64()));
            return ChargeEvidence.Of([.. signed]);
        }
        catch (Exception malformed) when (malformed is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"the evidence is not readable: {malformed.Message}", malformed);
        }
    }
}
