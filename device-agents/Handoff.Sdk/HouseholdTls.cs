using System.Security.Cryptography.X509Certificates;
using Handoff.Contracts.Security;
using Orleans.Connections.Security;

namespace Handoff.Sdk;

/// <summary>A client's side of the household's mutual TLS: present the household certificate, accept only it.</summary>
public static class HouseholdTls
{
    /// <summary>Turns on TLS with <paramref name="household"/>; does nothing when it is null (a household without TLS).</summary>
    public static IClientBuilder Apply(IClientBuilder client, X509Certificate2? household)
    {
        if (household is null)
        {
            return client;
        }

        return client.UseTls(household, tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (presented, _, _) => HouseholdCertificate.IsHousehold(household, presented);
            tls.OnAuthenticateAsClient = (_, options) => options.TargetHost = "handoff-household";
        });
    }
}
