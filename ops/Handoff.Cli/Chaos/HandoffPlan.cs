using Handoff.Contracts;

namespace Handoff.Cli.Chaos;

/// <summary>What the person and the app do with one handoff of a chaos run.</summary>
internal enum HandoffKind
{
    /// <summary>The right PIN on one of the payer devices.</summary>
    Approve,

    /// <summary>One or two wrong PINs, then the right one.</summary>
    WrongPinFirst,

    /// <summary>Three wrong PINs: the device declines.</summary>
    ThreeWrongPins,

    Decline,

    CancelByTv,

    CancelByPayer,

    /// <summary>Nobody acts: the payment expires.</summary>
    Expire,

    /// <summary>Approved, then given back in part or in whole, sometimes twice with one refund key, sometimes too much.</summary>
    Refund,

    /// <summary>Two payer devices approve at once: one pays.</summary>
    Race,
}

/// <summary>How a refund of a <see cref="HandoffKind.Refund"/> handoff is asked.</summary>
internal enum RefundKind
{
    /// <summary>A part of what is left, under a new key.</summary>
    Part,

    /// <summary>All that is left (no amount), under a new key.</summary>
    Rest,

    /// <summary>The last refund again, its key and amount: the same refund, nothing more moves.</summary>
    Repeat,

    /// <summary>More than was charged: refused as over_refund.</summary>
    Over,
}

/// <summary>
/// One handoff of a chaos run, drawn from the seed alone (its own stream per number), so that handoff n of a seed is
/// the same handoff in every replay, whichever worker runs it.
/// </summary>
internal sealed record HandoffPlan(
    long Index,
    HandoffKind Kind,
    PaymentInfo Info,
    string AskedFor,
    IReadOnlyList<string> Actors,
    string? Program,
    string? OtherProgram,
    TimeSpan ExpiresIn,
    TimeSpan Think,
    int WrongPins,
    IReadOnlyList<(RefundKind Kind, double Share)> Refunds)
{
    private const ulong HandoffStream = 2;

    /// <summary>The number of the handoff made once everything has healed (<see cref="AfterHealing"/>).</summary>
    public const long Healed = -1;

    public string OrderKey(long seed) => Index == Healed ? $"chaos-{seed}-healed" : $"chaos-{seed}-{Index}";

    /// <summary>
    /// The handoff made once everything has healed: the household must work again, so this one completes. It asks the
    /// second phone, which pays from its own account (no program of it can have run dry), and has a minute to do it.
    /// </summary>
    public static HandoffPlan AfterHealing(long seed, ChaosTopology topology) => new(
        Healed,
        HandoffKind.Approve,
        new PaymentInfo(1.00m, "CNY", "Tea House", $"chaos {seed}: after healing"),
        topology.PayerDevices[1],
        [topology.PayerDevices[1]],
        Program: null,
        OtherProgram: null,
        TimeSpan.FromSeconds(60),
        TimeSpan.Zero,
        WrongPins: 0,
        []);

    public static HandoffPlan For(long seed, long index, ChaosTopology topology, IReadOnlyDictionary<string, IReadOnlyList<string>> programs)
    {
        var random = ChaosRandom.For(seed, HandoffStream, index);
        var kind = random.Pick<HandoffKind>(
        [
            (HandoffKind.Approve, 0.22), (HandoffKind.WrongPinFirst, 0.10), (HandoffKind.ThreeWrongPins, 0.05), (HandoffKind.Decline, 0.09),
            (HandoffKind.CancelByTv, 0.08), (HandoffKind.CancelByPayer, 0.07), (HandoffKind.Expire, 0.07), (HandoffKind.Refund, 0.20),
            (HandoffKind.Race, 0.12),
        ]);
        var devices = topology.PayerDevices;
        var currency = random.Chance(0.1) ? "EUR" : "CNY";
        var info = new PaymentInfo(random.Next(100, 6_000) / 100m, currency, random.Pick<string>(["Tea House", "Noodle Bar", "Book Shop"]), $"chaos {seed}/{index}");

        // Whom the request asks: one device, two of them, or any; the race needs two that may both approve.
        var shape = kind == HandoffKind.Race ? random.Pick<int>([(2, 0.7), (3, 0.3)]) : random.Pick<int>([(1, 0.6), (2, 0.25), (3, 0.15)]);
        IReadOnlyList<string> asked;
        string askedFor;
        if (shape == 3)
        {
            asked = devices;
            askedFor = PayerChoice.Any;
        }
        else
        {
            var first = random.Pick(devices);
            var second = random.Pick([.. devices.Where(device => device != first)]);
            asked = shape == 1 ? [first] : [.. new[] { first, second }.Order(StringComparer.Ordinal)];
            askedFor = string.Join(',', asked);
        }

        var actor = random.Pick(asked);
        IReadOnlyList<string> actors = kind == HandoffKind.Race ? [.. asked.Take(2)] : [actor];
        var held = currency == "CNY" ? programs.GetValueOrDefault(actor) ?? [] : [];
        var program = held.Count == 0 ? null : random.Pick<string?>([(held[0], 0.4), (held[^1], 0.3), (null, 0.3)]);
        var other = held.FirstOrDefault(candidate => candidate != program);
        var refunds = kind != HandoffKind.Refund
            ? []
            : Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => (random.Pick<RefundKind>([(RefundKind.Part, 0.5), (RefundKind.Rest, 0.2), (RefundKind.Repeat, 0.15), (RefundKind.Over, 0.15)]), random.NextDouble()))
                .ToList();
        return new HandoffPlan(
            index,
            kind,
            info,
            askedFor,
            actors,
            program,
            other,
            kind == HandoffKind.Expire ? random.Between(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(8)) : random.Between(TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(20)),
            random.Between(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(2500)),
            kind switch
            {
                HandoffKind.WrongPinFirst => random.Next(1, 3),
                HandoffKind.ThreeWrongPins => 3,
                _ => 0,
            },
            refunds);
    }
}
