using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Handoff.Contracts.Security;

/// <summary>
/// The household's TLS certificate: every silo and client of the household presents it, and each side
/// accepts only a peer presenting the very same certificate (pinned by thumbprint), so a process without
/// the household's certificate cannot join or connect. Kept in a file readable by its owner alone.
/// </summary>
public static class HouseholdCertificate
{
    public const string FileName = "household.pfx";

    /// <summary>A new self-signed ECDSA P-256 certificate for the household, valid ten years.</summary>
    public static X509Certificate2 Create(string householdId, TimeProvider? time = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=handoff household {householdId}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Loads the certificate at <paramref name="path"/>, or makes and saves one there.</summary>
    public static X509Certificate2 LoadOrCreate(string path, string householdId)
    {
        if (File.Exists(path))
        {
            return Load(path);
        }

        var certificate = Create(householdId);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(certificate.Export(X509ContentType.Pkcs12));
        }

        return certificate;
    }

    public static X509Certificate2 Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new NotFoundException($"no household certificate at {Path.GetFullPath(path)} (copy the hub's {FileName} to this device)");
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        return certificate.HasPrivateKey
            ? certificate
            : throw new ValidationException("certificate", $"{path} has no private key", ErrorCodes.WrongType);
    }

    /// <summary>True when a peer presented exactly the household's certificate; chain errors are expected for a self-signed one.</summary>
    public static bool IsHousehold(X509Certificate2 household, X509Certificate2? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(household.RawData, presented.RawData);
}
