using Handoff.Grains.Payer;

namespace Handoff.Grains.Tests;

/// <summary>The payer's wrong-PIN count and lockout, kept in a real file across restarts of the agent.</summary>
public sealed class PinVaultTests : IDisposable
{
    private const string Device = "phone-1";
    private const int LockAfter = 5;
    private static readonly TimeSpan LockFor = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly string _folder = Directory.CreateTempSubdirectory("handoff-pin-vault-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_restarted_agent_keeps_the_lock_and_the_tries_already_used()
    {
        var vault = Vault();
        for (var wrong = 1; wrong < LockAfter; wrong++)
        {
            Assert.Null(vault.Failed(Device, Start, LockAfter, LockFor));
        }

        // Restarted after four wrong PINs: the fifth still locks.
        var restarted = Vault();
        Assert.Equal(Start + LockFor, restarted.Failed(Device, Start, LockAfter, LockFor));

        // Restarted while locked: still locked, until the same moment.
        var again = Vault();
        Assert.Equal(Start + LockFor, again.LockedUntil(Device, Start + TimeSpan.FromMinutes(1)));
        Assert.Null(again.LockedUntil(Device, Start + LockFor));
        Assert.True(File.Exists(again.FileOf(Device)));
    }

    [Fact]
    public void Each_lockout_lasts_twice_as_long_as_the_last_until_a_right_pin()
    {
        var now = Start;
        var lengths = new List<TimeSpan>();
        for (var lockout = 0; lockout < 3; lockout++)
        {
            var vault = Vault(); // a restart between lockouts changes nothing
            DateTimeOffset? until = null;
            for (var wrong = 0; wrong < LockAfter; wrong++)
            {
                until = vault.Failed(Device, now, LockAfter, LockFor);
            }

            lengths.Add(until!.Value - now);
            now = until.Value;
        }

        Assert.Equal([LockFor, LockFor * 2, LockFor * 4], lengths);

        // A right PIN ends the escalation: the next lockout is the first one again.
        var afterRight = Vault();
        afterRight.Succeeded(Device);
        DateTimeOffset? next = null;
        for (var wrong = 0; wrong < LockAfter; wrong++)
        {
            next = Vault().Failed(Device, now, LockAfter, LockFor);
        }

        Assert.Equal(now + LockFor, next);
    }

    [Fact]
    public void Lockouts_stop_growing_at_a_day()
    {
        var vault = Vault();
        var now = Start;
        TimeSpan last = default;
        for (var lockout = 0; lockout < 12; lockout++)
        {
            for (var wrong = 0; wrong < LockAfter; wrong++)
            {
                if (vault.Failed(Device, now, LockAfter, LockFor) is { } until)
                {
                    last = until - now;
                    now = until;
                }
            }
        }

        Assert.Equal(PinVault.LongestLockout, last);
    }

    [Fact]
    public void A_damaged_attempts_file_is_an_error_naming_it_not_fresh_tries()
    {
        var vault = Vault();
        File.WriteAllText(vault.FileOf(Device)!, "{ not json");

        var error = Assert.Throws<InvalidDataException>(() => Vault().LockedUntil(Device, Start));
        Assert.Contains(vault.FileOf(Device)!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_folder_nothing_is_written()
    {
        var vault = new PinVault();
        vault.Failed(Device, Start, LockAfter, LockFor);

        Assert.Null(vault.FileOf(Device));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    private PinVault Vault() => new(_folder);
}
