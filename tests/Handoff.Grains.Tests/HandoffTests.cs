using Handoff.Contracts;
using Handoff.Grains.Payer;
using Microsoft.Extensions.DependencyInjection;

namespace Handoff.Grains.Tests;

[Collection(HouseholdCollection.Name)]
public sealed class HandoffTests(HouseholdCluster household)
{
    private static readonly PaymentInfo Tea = new(12.50m, "CNY", "Tea House");

    [Fact]
    public async Task Offer_activates_the_payment_ability_on_the_payers_silo_only()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id);

        // The offer returns once the payer's sheet shows it: both steps are recorded by the time the request returns.
        Assert.Equal(PaymentState.Displayed, payment.State);
        Assert.Equal([PaymentState.Created, PaymentState.Offered, PaymentState.Displayed], payment.History.Select(step => step.To));
        var where = household.WhereActive(household.Ability(HouseholdCluster.Phone2.Id));
        Assert.Equal(household.SiloCarrying(HouseholdCluster.Phone2.Id).SiloAddress, where);
        Assert.NotEqual(household.Hub.SiloAddress, where);

        // The sheet was pushed into the payer silo's own board, not fetched from anywhere.
        var board = household.Cluster.GetSiloServiceProvider(where).GetRequiredService<PaymentSheetBoard>();
        Assert.True(board.TryGet(payment.PaymentId, out var shown));
        Assert.Equal(Tea, shown!.Info);
        await household.Tv1.CancelAsync(payment.PaymentId);
    }

    [Fact]
    public async Task Handoff_walks_every_state_to_completed_and_charges_the_ledger_once()
    {
        var before = await household.LedgerAsync();
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-complete");
        var watching = CollectAsync(household.Tv1.WatchAsync(payment.PaymentId));
        await WaitForStateAsync(payment.PaymentId, PaymentState.Displayed);

        var result = await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));

        Assert.Equal(VerificationOutcome.Approved, result.Outcome);
        Assert.Equal(PaymentState.Completed, result.Payment!.State);
        PaymentState[] everyState =
            [PaymentState.Created, PaymentState.Offered, PaymentState.Displayed, PaymentState.Authorized, PaymentState.Charging, PaymentState.Completed];
        Assert.Equal(everyState, result.Payment.History.Select(transition => transition.To));

        // The initiator saw every change from the moment it started watching, in order.
        var seen = await watching.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(everyState.SkipWhile(state => state != seen[0].State), seen.Select(snapshot => snapshot.State));
        Assert.Equal(PaymentState.Completed, seen[^1].State);

        var after = await household.LedgerAsync();
        var charge = Assert.Single(after.Entries, entry => entry.PaymentId == payment.PaymentId);
        Assert.Equal(12.50m, charge.Amount);
        Assert.Equal(before.Entries.Count + 1, after.Entries.Count);
        Assert.Equal(Balance(before, "payer:phone-1/CNY") - 12.50m, Balance(after, "payer:phone-1/CNY"));
        Assert.Equal(Balance(before, "merchant:Tea House/CNY") + 12.50m, Balance(after, "merchant:Tea House/CNY"));
        Assert.Equal(0m, after.Balances.Values.Sum());

        // The same order again is the same, completed payment: nothing is charged a second time.
        var again = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-complete");
        Assert.Equal(payment.PaymentId, again.PaymentId);
        Assert.Equal(PaymentState.Completed, again.State);
        Assert.Equal(after.Entries.Count, (await household.LedgerAsync()).Entries.Count);
    }

    [Fact]
    public async Task Await_outcome_returns_the_completed_payment()
    {
        var payment = await household.Tv1.RequestPaymentAsync(new PaymentInfo(3m, "EUR", "Bakery"), HouseholdCluster.Phone1.Id);
        var outcome = household.Tv1.AwaitOutcomeAsync(payment.PaymentId);
        await WaitForStateAsync(payment.PaymentId, PaymentState.Displayed);
        await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));

        var completed = await outcome.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(PaymentState.Completed, completed.State);
    }

    [Fact]
    public async Task A_watch_gets_its_pushes_even_when_the_garbage_collector_runs_meanwhile()
    {
        // Orleans holds client observers weakly; a watch that does not keep its observer alive loses pushes.
        for (var round = 0; round < 10; round++)
        {
            var payment = await household.Tv1.RequestPaymentAsync(new PaymentInfo(1m, "CNY", "Kiosk"), HouseholdCluster.Phone1.Id);
            var watching = CollectAsync(household.Tv1.WatchAsync(payment.PaymentId));
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));

            // Well under the SDK's 15 s re-read: the push itself must have arrived.
            var seen = await watching.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(PaymentState.Completed, seen[^1].State);
        }
    }

    [Fact]
    public async Task Wrong_pin_three_times_declines_without_a_charge()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var ability = household.Person(HouseholdCluster.Phone1.Id);

        var first = await ability.ApproveWithPinAsync(payment.PaymentId, "0000");
        var second = await ability.ApproveWithPinAsync(payment.PaymentId, "0001");
        var third = await ability.ApproveWithPinAsync(payment.PaymentId, "0002");

        Assert.Equal((VerificationOutcome.WrongPin, 2), (first.Outcome, first.TriesLeft));
        Assert.Equal((VerificationOutcome.WrongPin, 1), (second.Outcome, second.TriesLeft));
        Assert.Equal(VerificationOutcome.TooManyWrongPins, third.Outcome);
        Assert.Equal(PaymentState.Declined, third.Payment!.State);
        Assert.Equal("3 wrong PIN entries", third.Payment.FailureReason);
        await AssertNotChargedAsync(payment.PaymentId);
        var late = await ability.ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal(VerificationOutcome.NotPending, late.Outcome);
        await AssertNotChargedAsync(payment.PaymentId);
    }

    [Fact]
    public async Task Wrong_pin_then_right_pin_completes()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);
        var ability = household.Person(HouseholdCluster.Phone1.Id);

        var wrong = await ability.ApproveWithPinAsync(payment.PaymentId, "9999");
        var right = await ability.ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));

        Assert.Equal(VerificationOutcome.WrongPin, wrong.Outcome);
        Assert.Equal(PaymentState.Completed, right.Payment!.State);
    }

    [Fact]
    public async Task Decline_on_the_payer_ends_declined_and_the_initiator_gets_a_typed_error()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id);
        var outcome = household.Tv1.AwaitOutcomeAsync(payment.PaymentId);

        var result = await household.Person(HouseholdCluster.Phone2.Id).DeclineAsync(payment.PaymentId);

        Assert.Equal(PaymentState.Declined, result.Payment!.State);
        var error = await Assert.ThrowsAsync<PaymentDeclinedException>(() => outcome.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ErrorCodes.Declined, error.Code);
        await AssertNotChargedAsync(payment.PaymentId);
    }

    [Fact]
    public async Task Cancel_from_the_initiator_takes_the_sheet_off_the_payer()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone2.Id);
        var board = household.Cluster.GetSiloServiceProvider(household.SiloCarrying(HouseholdCluster.Phone2.Id).SiloAddress)
            .GetRequiredService<PaymentSheetBoard>();
        Assert.True(board.TryGet(payment.PaymentId, out _));

        var cancelled = await household.Tv1.CancelAsync(payment.PaymentId);

        Assert.Equal(PaymentState.Cancelled, cancelled.State);
        Assert.Equal("cancelled on tv-1", cancelled.FailureReason);
        await HouseholdCluster.WaitUntilAsync(() => Task.FromResult(!board.TryGet(payment.PaymentId, out _)), "the payer sheet to close");
        var late = await household.Person(HouseholdCluster.Phone2.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone2));
        Assert.Equal(VerificationOutcome.NotPending, late.Outcome);
        await AssertNotChargedAsync(payment.PaymentId);
    }

    [Fact]
    public async Task Cancel_from_the_payer_device_ends_cancelled()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);

        var cancelled = await household.Client(HouseholdCluster.Home, HouseholdCluster.Phone1.Id).CancelAsync(payment.PaymentId);

        Assert.Equal(PaymentState.Cancelled, cancelled.State);
        Assert.Equal(HouseholdCluster.Phone1.Id, cancelled.History[^1].Device);
        await AssertNotChargedAsync(payment.PaymentId);
    }

    [Fact]
    public async Task A_device_that_is_not_a_party_cannot_cancel()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);

        await Assert.ThrowsAsync<ForbiddenException>(() => household.Client(HouseholdCluster.Home, HouseholdCluster.Phone2.Id).CancelAsync(payment.PaymentId));

        Assert.Equal(PaymentState.Displayed, (await WaitForStateAsync(payment.PaymentId, PaymentState.Displayed)).State);
        await household.Tv1.CancelAsync(payment.PaymentId);
    }

    [Fact]
    public async Task Deadline_passing_expires_the_payment_and_a_late_pin_charges_nothing()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, expiresIn: TimeSpan.FromSeconds(30));
        await WaitForStateAsync(payment.PaymentId, PaymentState.Displayed);

        household.Time.Advance(TimeSpan.FromSeconds(31));

        var expired = await WaitForStateAsync(payment.PaymentId, PaymentState.Expired);
        Assert.Equal("not verified before the deadline", expired.FailureReason);
        var late = await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal(VerificationOutcome.NotPending, late.Outcome);
        await AssertNotChargedAsync(payment.PaymentId);
        await Assert.ThrowsAsync<PaymentExpiredException>(() => household.Tv1.AwaitOutcomeAsync(payment.PaymentId));
    }

    [Fact]
    public async Task A_payer_with_no_live_silo_fails_fast_as_offline_and_nothing_is_kept()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PayerOfflineException>(
            () => household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.OfflineWatch, "order-offline"));
        started.Stop();

        Assert.Equal(ErrorCodes.PayerOffline, error.Code);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"offline refusal took {started.Elapsed}");
        Assert.Null(household.WhereActive(household.Ability(HouseholdCluster.OfflineWatch)));
        var id = PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, "order-offline");
        await Assert.ThrowsAsync<NotFoundException>(() => household.Tv1.GetPaymentAsync(id));
        var watch = (await household.Tv1.ListDevicesAsync()).Single(device => device.DeviceId == HouseholdCluster.OfflineWatch);
        Assert.False(watch.Online);
    }

    [Fact]
    public async Task Same_order_key_returns_the_same_payment_and_other_content_is_a_conflict()
    {
        var first = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-42");
        var second = await household.Tv1.RequestPaymentAsync(Tea with { Amount = 12.5000m }, HouseholdCluster.Phone1.Id, "order-42");

        Assert.Equal(first.PaymentId, second.PaymentId);
        Assert.Equal(first.CreatedAt, second.CreatedAt);
        var conflict = await Assert.ThrowsAsync<ConflictException>(
            () => household.Tv1.RequestPaymentAsync(Tea with { Amount = 13m }, HouseholdCluster.Phone1.Id, "order-42"));
        Assert.Equal(ErrorCodes.Conflict, conflict.Code);
        Assert.Equal(12.50m, (await household.Tv1.GetPaymentAsync(first.PaymentId)).Info.Amount);
        await household.Tv1.CancelAsync(first.PaymentId);
    }

    [Fact]
    public async Task A_repeated_request_reaching_a_new_activation_is_answered_from_the_stored_record()
    {
        // A payment is created without reading its record first; a repeat that reaches a fresh activation must
        // still find the stored one, never create a second payment over it.
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-fresh-activation");
        var grain = household.Cluster.Client.GetGrain<IPaymentRequestGrain>(payment.PaymentId);
        await household.DeactivateAsync(grain);

        var open = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-fresh-activation");
        Assert.Equal(payment.PaymentId, open.PaymentId);
        Assert.Equal(payment.CreatedAt, open.CreatedAt);
        Assert.Equal(payment.History, open.History);

        var approved = await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        Assert.Equal(PaymentState.Completed, approved.Payment!.State);
        var charged = await household.LedgerAsync();
        await household.DeactivateAsync(grain);

        var completed = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-fresh-activation");
        Assert.Equal(PaymentState.Completed, completed.State);
        Assert.Equal(approved.Payment.History, completed.History);
        Assert.Equal(charged.Entries.Count, (await household.LedgerAsync()).Entries.Count);
        Assert.Single(charged.Entries, entry => entry.PaymentId == payment.PaymentId);

        // Other content under the same order key is a conflict on a fresh activation too, and changes nothing.
        await household.DeactivateAsync(grain);
        await Assert.ThrowsAsync<ConflictException>(
            () => household.Tv1.RequestPaymentAsync(Tea with { Amount = 99m }, HouseholdCluster.Phone1.Id, "order-fresh-activation"));
        Assert.Equal(approved.Payment.History, (await household.Tv1.GetPaymentAsync(payment.PaymentId)).History);
    }

    [Fact]
    public async Task A_request_refused_as_offline_can_be_refused_again_by_a_new_activation_and_leaves_nothing()
    {
        var id = PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, "order-offline-twice");
        await Assert.ThrowsAsync<PayerOfflineException>(
            () => household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.OfflineWatch, "order-offline-twice"));
        await household.DeactivateAsync(household.Cluster.Client.GetGrain<IPaymentRequestGrain>(id));

        // The cleared record is still a row in the store: the second attempt finds it, writes over it, and clears it again.
        await Assert.ThrowsAsync<PayerOfflineException>(
            () => household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.OfflineWatch, "order-offline-twice"));
        await Assert.ThrowsAsync<NotFoundException>(() => household.Tv1.GetPaymentAsync(id));
    }

    [Fact]
    public async Task An_open_payment_has_a_recovery_row_and_an_ended_one_has_it_removed_in_the_background()
    {
        var reminders = household.Hub.SiloHost.Services.GetRequiredService<IReminderTable>();
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-recovery-row");
        var grainId = household.Cluster.Client.GetGrain<IPaymentRequestGrain>(payment.PaymentId).GetGrainId();
        Assert.NotNull(await reminders.ReadRow(grainId, "recovery"));

        await household.Tv1.CancelAsync(payment.PaymentId);

        // Removal waits a batch window (on the reminder service's real clock), then deletes the rows gathered.
        await HouseholdCluster.WaitUntilAsync(
            async () => await reminders.ReadRow(grainId, "recovery") is null,
            $"the recovery row of ended payment {payment.PaymentId} to be removed");
    }

    [Fact]
    public async Task Households_see_and_reach_only_their_own_devices_and_payments()
    {
        var neighbour = household.Client(HouseholdCluster.Other, HouseholdCluster.OtherTv);
        var mine = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id);

        var theirDevices = await neighbour.ListDevicesAsync();
        Assert.Equal(["tv-x", "phone-x"], theirDevices.Select(device => device.DeviceId).Order(StringComparer.Ordinal).Reverse());
        await Assert.ThrowsAsync<NotFoundException>(() => neighbour.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.PhoneX.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => neighbour.GetPaymentAsync(mine.PaymentId));
        await Assert.ThrowsAsync<NotFoundException>(() => neighbour.CancelAsync(mine.PaymentId));
        var spoofed = household.Client(HouseholdCluster.Other, HouseholdCluster.Tv);
        await Assert.ThrowsAsync<NotFoundException>(() => spoofed.RequestPaymentAsync(Tea, HouseholdCluster.PhoneX.Id));
        // The neighbours pay too (ProgramTests): what they see of payments is theirs, never this one.
        Assert.DoesNotContain(mine.PaymentId, await neighbour.RecentPaymentsAsync());
        Assert.Contains(mine.PaymentId, await household.Tv1.RecentPaymentsAsync());
        await household.Tv1.CancelAsync(mine.PaymentId);
    }

    [Fact]
    public async Task Payer_devices_list_capabilities_and_presence()
    {
        var payers = await household.Tv1.ListPayerDevicesAsync();

        Assert.Equal(["phone-1", "phone-2", "watch-9"], payers.Select(device => device.DeviceId));
        Assert.All(payers, device => Assert.True(device.Capabilities.CanPay));
        Assert.Equal([true, true, false], payers.Select(device => device.Online));
    }

    [Fact]
    public async Task An_initiator_cannot_be_the_payer_target()
    {
        await household.PairAsync(HouseholdCluster.Home, "tv-2", "Bedroom TV", DeviceKind.Tv, DeviceRole.Initiator);

        var error = await Assert.ThrowsAsync<NotCapableException>(() => household.Tv1.RequestPaymentAsync(Tea, "tv-2"));

        Assert.Equal(ErrorCodes.NotCapable, error.Code);
    }

    [Theory]
    [InlineData(0, "CNY", "Tea House", "amount", "non_positive_amount")]
    [InlineData(-1, "CNY", "Tea House", "amount", "non_positive_amount")]
    [InlineData(1.001, "CNY", "Tea House", "amount", "too_many_decimals")]
    [InlineData(5, "cny", "Tea House", "currency", "invalid_currency")]
    [InlineData(5, "CN", "Tea House", "currency", "invalid_currency")]
    [InlineData(5, "CNY", "", "merchant", "missing_field")]
    public async Task Malformed_payment_info_is_refused_naming_the_field(double amount, string currency, string merchant, string field, string code)
    {
        var before = await household.LedgerAsync();

        var error = await Assert.ThrowsAsync<ValidationException>(
            () => household.Tv1.RequestPaymentAsync(new PaymentInfo((decimal)amount, currency, merchant), HouseholdCluster.Phone1.Id, "bad-" + field));

        Assert.Equal(field, error.Field);
        Assert.Equal(code, error.Code);
        await Assert.ThrowsAsync<NotFoundException>(
            () => household.Tv1.GetPaymentAsync(PaymentIds.For(HouseholdCluster.Home, HouseholdCluster.Tv, "bad-" + field)));
        Assert.Equal(before.Entries.Count, (await household.LedgerAsync()).Entries.Count);
    }

    private async Task<PaymentSnapshot> WaitForStateAsync(string paymentId, PaymentState state)
    {
        PaymentSnapshot? last = null;
        await HouseholdCluster.WaitUntilAsync(
            async () => (last = await household.Tv1.GetPaymentAsync(paymentId)).State == state,
            $"payment {paymentId} to reach {state} (last seen {last?.State})");
        return last!;
    }

    private async Task AssertNotChargedAsync(string paymentId)
    {
        Assert.Null(await household.Authority.GetGrain<ILedgerGrain>(HouseholdCluster.Home).GetChargeAsync(paymentId));
    }

    private static decimal Balance(LedgerView ledger, string key) => ledger.Balances.GetValueOrDefault(key);

    [Fact]
    public async Task A_forged_push_to_a_watcher_does_not_end_its_watch()
    {
        var payment = await household.Tv1.RequestPaymentAsync(Tea, HouseholdCluster.Phone1.Id, "order-forged-push");
        await WaitForStateAsync(payment.PaymentId, PaymentState.Displayed);
        household.Observers.Clear();
        var watching = CollectAsync(household.Tv1.WatchAsync(payment.PaymentId));
        await HouseholdCluster.WaitUntilAsync(() => Task.FromResult(!household.Observers.IsEmpty), "the watch to subscribe");

        // Whoever holds the observer pushes a "Completed" the payment never reached, with a longer history.
        var real = await household.Tv1.GetPaymentAsync(payment.PaymentId);
        var forged = real with
        {
            State = PaymentState.Completed,
            History = [.. real.History, new PaymentTransition(PaymentState.Displayed, PaymentState.Completed, real.CreatedAt, "phone-1", "forged")],
        };
        household.Observers.TryPeek(out var observer);
        await observer!.OnPaymentUpdatedAsync(forged);

        // The watch asks the authority instead, and goes on until the person really pays.
        Assert.False(watching.IsCompleted, "the watch ended on a forged push");
        await household.Person(HouseholdCluster.Phone1.Id).ApproveWithPinAsync(payment.PaymentId, HouseholdCluster.PinOf(HouseholdCluster.Phone1));
        var seen = await watching.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(seen, snapshot => snapshot.History.Any(step => step.Cause == "forged"));
        Assert.Equal(
            [PaymentState.Displayed, PaymentState.Authorized, PaymentState.Charging, PaymentState.Completed],
            seen.Select(snapshot => snapshot.State));
    }

    private static async Task<List<PaymentSnapshot>> CollectAsync(IAsyncEnumerable<PaymentSnapshot> updates)
    {
        var seen = new List<PaymentSnapshot>();
        await foreach (var update in updates)
        {
            seen.Add(update);
        }

        return seen;
    }
}
