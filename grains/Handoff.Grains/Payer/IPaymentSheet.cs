using Handoff.Contracts;

namespace Handoff.Grains.Payer;

/// <summary>The payer device's local screen, pushed to by its <see cref="PaymentAbilityGrain"/>.</summary>
public interface IPaymentSheet
{
    /// <summary>True while payment <paramref name="paymentId"/> is on the screen.</summary>
    bool Shows(string paymentId);

    /// <summary>Shows an offer; returns once it is on the screen.</summary>
    ValueTask ShowAsync(PaymentOffer offer);

    /// <summary>Tells the person a PIN was wrong.</summary>
    void WrongPin(string paymentId, int triesLeft);

    /// <summary>Takes a payment off the screen with its final state and, when known, the authority's reason.</summary>
    void Close(string paymentId, PaymentState state, string? reason = null);

    /// <summary>Tells the person that money of a payment this device paid came back (the payment as its authority has it).</summary>
    void Refunded(PaymentSnapshot payment);
}

/// <summary>The payer device's own check of the person: PIN hashes that never leave the device, and the lockout.</summary>
public interface IUserVerifier
{
    bool VerifyPin(string deviceId, string pin);

    DateTimeOffset? LockedUntil(string deviceId, DateTimeOffset now);

    DateTimeOffset? Failed(string deviceId, DateTimeOffset now, int lockAfter, TimeSpan lockFor);

    void Succeeded(string deviceId);
}
