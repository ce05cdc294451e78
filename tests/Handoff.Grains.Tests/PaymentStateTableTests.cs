using Handoff.Contracts;

namespace Handoff.Grains.Tests;

/// <summary>The one table of payment states: complete, and what every predicate says follows from it.</summary>
public sealed class PaymentStateTableTests
{
    public static TheoryData<PaymentState> States => [.. Enum.GetValues<PaymentState>()];

    [Fact]
    public void Every_state_has_exactly_one_row()
    {
        Assert.Equal(Enum.GetValues<PaymentState>().Order(), PaymentStates.Table.Select(rule => rule.State).Order());
    }

    [Theory]
    [MemberData(nameof(States))]
    public void A_terminal_state_moves_nowhere_and_every_other_one_can_still_complete_or_fail(PaymentState state)
    {
        if (state.IsTerminal())
        {
            Assert.Empty(state.Rule().MovesTo);
            Assert.All(Enum.GetValues<PaymentState>(), to => Assert.False(PaymentStates.CanMove(state, to)));
            return;
        }

        var reached = new HashSet<PaymentState> { state };
        var frontier = new Queue<PaymentState>([state]);
        while (frontier.TryDequeue(out var next))
        {
            foreach (var to in next.Rule().MovesTo.Where(reached.Add))
            {
                frontier.Enqueue(to);
            }
        }

        Assert.Contains(PaymentState.Completed, reached);
        Assert.True(PaymentStates.CanMove(state, PaymentState.Failed), $"{state} must be able to fail");
    }

    [Fact]
    public void The_predicates_say_what_the_states_mean()
    {
        Assert.Equal([PaymentState.Created, PaymentState.Offered, PaymentState.Displayed], Enum.GetValues<PaymentState>().Where(PaymentStates.AwaitsVerification));
        Assert.Equal([PaymentState.Declined, PaymentState.Cancelled, PaymentState.Expired, PaymentState.Failed], Enum.GetValues<PaymentState>().Where(PaymentStates.IsUnpaid));
        Assert.Equal([PaymentState.Expired, PaymentState.Failed], Enum.GetValues<PaymentState>().Where(state => state.Rule().Error));
        Assert.All(Enum.GetValues<PaymentState>().Where(PaymentStates.IsUnpaid), state => Assert.True(state.IsTerminal()));

        // Only a verified approval leads on to a charge, and only a charge to Completed.
        Assert.Equal([PaymentState.Offered, PaymentState.Displayed], Enum.GetValues<PaymentState>().Where(from => PaymentStates.CanMove(from, PaymentState.Authorized)));
        Assert.Equal([PaymentState.Charging], Enum.GetValues<PaymentState>().Where(from => PaymentStates.CanMove(from, PaymentState.Completed)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((PaymentState)42).Rule());
    }
}
