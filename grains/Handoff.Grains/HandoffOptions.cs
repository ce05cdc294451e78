namespace Handoff.Grains;

/// <summary>Policy of the handoff, bound from the <c>Handoff</c> configuration section.</summary>
public sealed class HandoffOptions
{
    public const string Section = "Handoff";

    /// <summary>The name of the grain storage provider every durable grain uses.</summary>
    public const string StorageName = "handoff";

    /// <summary>How long a payment waits for verification when the request names no expiry.</summary>
    public TimeSpan DefaultExpiry { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a guardian has to decide a member's request that is over a rule (it survives restarts: it is the payment's deadline).</summary>
    public TimeSpan GuardianExpiry { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The longest expiry a request may ask for.</summary>
    public TimeSpan MaxExpiry { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Wrong PIN entries that decline one payment.</summary>
    public int MaxPinTries { get; set; } = 3;

    /// <summary>
    /// How often an unfinished payment is driven forward by its reminder (re-offer, expire, finish a
    /// charge): the bound on recovery after a crash. Orleans' reminder minimum is lowered to match.
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The household's limit on one payment, in major units of any currency without its own limit.</summary>
    public decimal SpendingLimit { get; set; } = 10_000m;

    /// <summary>Per-currency limits on one payment (e.g. <c>Handoff:SpendingLimits:JPY=1000000</c>).</summary>
    public Dictionary<string, decimal> SpendingLimits { get; } = new(StringComparer.Ordinal);

    /// <summary>The limit on one payment in <paramref name="currency"/>.</summary>
    public decimal SpendingLimitFor(string currency) => SpendingLimits.TryGetValue(currency, out var limit) ? limit : SpendingLimit;

    /// <summary>The secret that admin operations (pairing codes, rename, remove) must present; empty disables them.</summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// How long the household may hold newly noted payments of its recent-payments list before saving them:
    /// one write covers every payment noted in that time. A hub crash can drop the list's last entries (never a payment).
    /// </summary>
    public TimeSpan RecentPaymentsSaveDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a pairing code is valid.</summary>
    public TimeSpan PairingCodeLifetime { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Wrong entries after which a pairing code is burned.</summary>
    public int PairingCodeTries { get; set; } = 3;

    /// <summary>Consecutive wrong PINs, across payments, after which a device's payments lock.</summary>
    public int PinLockoutAfter { get; set; } = 5;

    /// <summary>
    /// How long a device's first lockout lasts; each next one, with no right PIN in between, lasts twice as long as
    /// the last (up to a day). A payer agent keeps the count and the lock across restarts.
    /// </summary>
    public TimeSpan PinLockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a session credential counts. A removed device's session can still read for at most this long; every
    /// request, approval, decline and cancellation is checked against the device's current key regardless.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an initiator's heartbeat keeps it online.</summary>
    public TimeSpan PresenceWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first problem with these options, or null when they are usable.</summary>
    public string? Problem() =>
        DefaultExpiry < TimeSpan.FromSeconds(5) ? $"{Section}:{nameof(DefaultExpiry)} must be at least 5 seconds"
        : GuardianExpiry < TimeSpan.FromSeconds(5) ? $"{Section}:{nameof(GuardianExpiry)} must be at least 5 seconds"
        : MaxExpiry < DefaultExpiry ? $"{Section}:{nameof(MaxExpiry)} must be at least {nameof(DefaultExpiry)}"
        : MaxPinTries is < 1 or > 10 ? $"{Section}:{nameof(MaxPinTries)} must be between 1 and 10"
        : PresenceWindow <= TimeSpan.Zero ? $"{Section}:{nameof(PresenceWindow)} must be positive"
        : SpendingLimit <= 0 || SpendingLimits.Values.Any(limit => limit <= 0) ? $"{Section}:{nameof(SpendingLimit)}s must be positive"
        : RecoveryInterval < TimeSpan.FromSeconds(1) ? $"{Section}:{nameof(RecoveryInterval)} must be at least 1 second"
        : null;
}
