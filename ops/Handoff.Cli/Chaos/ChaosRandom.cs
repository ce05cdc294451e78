namespace Handoff.Cli.Chaos;

/// <summary>
/// The one source of chance of a chaos run: SplitMix64, written out here so that a seed gives the same numbers on
/// every machine and every .NET version (<see cref="Random"/>'s seeded sequence is not promised to stay the same).
/// </summary>
internal sealed class ChaosRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>An independent stream of <paramref name="seed"/>: the schedule, or handoff number <paramref name="index"/>, each its own.</summary>
    public static ChaosRandom For(long seed, ulong stream, long index = 0) =>
        new(Mix(Mix(unchecked((ulong)seed) ^ (stream * 0xD1B54A32D192ED03UL)) + unchecked((ulong)index)));

    public ulong NextBits()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Mix(_state);
    }

    /// <summary>A number in [0, 1).</summary>
    public double NextDouble() => (NextBits() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) =>
        maxExclusive <= min ? min : min + (int)(NextBits() % (ulong)(maxExclusive - min));

    /// <summary>A time in [<paramref name="min"/>, <paramref name="max"/>), to the millisecond.</summary>
    public TimeSpan Between(TimeSpan min, TimeSpan max) =>
        TimeSpan.FromMilliseconds(Math.Round(min.TotalMilliseconds + (NextDouble() * (max - min).TotalMilliseconds)));

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count)];

    /// <summary>One of <paramref name="weighted"/>, each as likely as its weight.</summary>
    public T Pick<T>(IReadOnlyList<(T Item, double Weight)> weighted)
    {
        var roll = NextDouble() * weighted.Sum(choice => choice.Weight);
        foreach (var (item, weight) in weighted)
        {
            roll -= weight;
            if (roll < 0)
            {
                return item;
            }
        }

        return weighted[^1].Item;
    }

    private static ulong Mix(ulong value)
    {
        value = unchecked((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL);
        value = unchecked((value ^ (value >> 27)) * 0x94D049BB133111EBUL);
        return value ^ (value >> 31);
    }
}
