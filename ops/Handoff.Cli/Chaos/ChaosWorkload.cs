using Handoff.Contracts;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Chaos;

/// <summary>
/// The people and the app of a chaos run: a few handoffs at a time, each drawn from the seed (<see cref="HandoffPlan"/>),
/// done through the TV's agent and the phones' agents as a person would, retrying what got no answer, until the run's
/// time is up. Whatever the household answers goes into the <see cref="ChaosJournal"/>.
/// </summary>
internal sealed class ChaosWorkload(ChaosHousehold household, AgentCalls agents, ChaosWatchers watchers, ChaosJournal journal, long seed, TimeProvider time)
{
    private const int Workers = 6;
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RequestGivesUp = TimeSpan.FromSeconds(30);
    private readonly PinPads _pins = new();
    private long _next = -1;

    /// <summary>Starts handoffs until <paramref name="stopStarting"/> fires, then lets those under way finish.</summary>
    public Task RunAsync(CancellationToken stopStarting, CancellationToken cancellation) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkerAsync(stopStarting, cancellation), cancellation)));

    /// <summary>The handoff after healing (<see cref="HandoffPlan.AfterHealing"/>), done as any other: its verdict is the run's.</summary>
    public async Task<PaymentJournal> AfterHealingAsync(CancellationToken cancellation)
    {
        var plan = HandoffPlan.AfterHealing(seed, household.Topology);
        var payment = journal.Add(plan, PaymentIds.For(ChaosHousehold.HouseholdId, ChaosTopology.Initiator, plan.OrderKey(seed)));
        household.Log($"#healed {payment.PaymentId}: {plan.Info.Amount} {plan.Info.Currency} asking {plan.AskedFor}");
        if (await RequestAsync(payment, cancellation))
        {
            watchers.Start(payment);
            await ApproveAsync(payment, plan.Actors[0], null, 0, cancellation);
        }

        return payment;
    }

    private async Task WorkerAsync(CancellationToken stopStarting, CancellationToken cancellation)
    {
        while (!stopStarting.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            var plan = HandoffPlan.For(seed, Interlocked.Increment(ref _next), household.Topology, household.Programs);
            var payment = journal.Add(plan, PaymentIds.For(ChaosHousehold.HouseholdId, ChaosTopology.Initiator, plan.OrderKey(seed)));
            household.Log($"#{plan.Index} {plan.Kind} {payment.PaymentId}: {plan.Info.Amount} {plan.Info.Currency} asking {plan.AskedFor}, by {string.Join(", ", plan.Actors)}, program {plan.Program ?? "default"}, expires in {plan.ExpiresIn.TotalSeconds:0} s");
            if (await RequestAsync(payment, cancellation))
            {
                watchers.Start(payment);
                await Task.Delay(plan.Think, time, cancellation);
                await ActAsync(payment, cancellation);
            }

            household.Log($"#{plan.Index} done: {(payment.Accepted ? payment.Ended ? "ended" : "open" : payment.Refused ?? "never answered")}");
        }
    }

    private Task ActAsync(PaymentJournal payment, CancellationToken cancellation)
    {
        var plan = payment.Plan;
        var actor = plan.Actors[0];
        return plan.Kind switch
        {
            HandoffKind.Approve or HandoffKind.WrongPinFirst or HandoffKind.ThreeWrongPins => ApproveAsync(payment, actor, plan.Program, plan.WrongPins, cancellation),
            HandoffKind.Decline => DeclineAsync(payment, actor, cancellation),
            HandoffKind.CancelByTv => CancelByTvAsync(payment, cancellation),
            HandoffKind.CancelByPayer => CancelByPayerAsync(payment, actor, cancellation),
            HandoffKind.Refund => RefundAsync(payment, cancellation),
            HandoffKind.Race => Task.WhenAll(plan.Actors.Select((device, n) => ApproveAsync(payment, device, n == 0 ? plan.Program : null, 0, cancellation))),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>Asks the TV's agent for the payment, again under the same order key while no answer comes or its phones are offline.</summary>
    private async Task<bool> RequestAsync(PaymentJournal payment, CancellationToken cancellation)
    {
        var plan = payment.Plan;
        var body = new PayBody(plan.AskedFor, plan.Info.Amount, plan.Info.Currency, plan.Info.Merchant, plan.Info.Description, plan.OrderKey(seed), (int)plan.ExpiresIn.TotalSeconds);
        var giveUp = time.GetUtcNow() + RequestGivesUp;
        while (true)
        {
            var answer = await agents.PostAsync(ChaosTopology.Initiator, "api/payments", body, cancellation);
            if (answer.Ok)
            {
                var view = answer.Read<PaymentView>();
                payment.Accepted = true;
                payment.Refused = null;
                payment.Deadline = view.Deadline;
                payment.Answered("pay", view);
                return true;
            }

            // Refused for good, unless the phones are only offline: the order is forgotten then, and the app asks again.
            payment.Refused = answer.Refused ? answer.Code : null;
            if ((answer.Refused && answer.Code != ErrorCodes.PayerOffline) || time.GetUtcNow() > giveUp)
            {
                // Unanswered to the end: whether it exists is for the store to say, and the verdict checks it there.
                return false;
            }

            await Task.Delay(answer.Refused ? 2 * Retry : Retry, time, cancellation);
        }
    }

    /// <summary>On <paramref name="device"/>'s sheet: <paramref name="wrongPins"/> wrong PINs, then (if still open) the right one.</summary>
    private async Task ApproveAsync(PaymentJournal payment, string device, string? program, int wrongPins, CancellationToken cancellation)
    {
        var triedOther = false;
        while (await OnSheetAsync(payment, device, cancellation))
        {
            var entered = await _pins.EnterAsync(device, wrongPins > 0, Open(payment), rightPin =>
            {
                payment.Approvals.Enqueue(new ApprovalAsked(device, rightPin ? program : null, rightPin));
                return agents.PostAsync(device, $"api/offers/{payment.PaymentId}/approve", new ApproveBody(rightPin ? ChaosHousehold.Pin : ChaosHousehold.WrongPin, program), cancellation);
            });
            if (entered is not { } done)
            {
                return;
            }

            var (answer, rightPin) = done;
            if (answer.Ok)
            {
                var result = answer.Read<VerificationView>();
                if (result.Payment is { } view)
                {
                    payment.Answered($"approve on {device}", view);
                }

                if (result.Outcome != "wrongPin")
                {
                    return;
                }

                wrongPins = rightPin ? wrongPins : wrongPins - 1;
                continue;
            }

            if (answer.Refused && answer.Code == ErrorCodes.InsufficientFunds && !triedOther)
            {
                // The person picks another program on the sheet, or (none left) declines.
                triedOther = true;
                if (payment.Plan.OtherProgram is { } other)
                {
                    program = other;
                    continue;
                }

                await DeclineAsync(payment, device, cancellation);
                return;
            }

            if (answer.Refused && answer.Code != ErrorCodes.NotFound)
            {
                return;
            }

            // No answer, or no longer on the sheet (a restarted phone gets the offer again from recovery): try again.
            await Task.Delay(Retry, time, cancellation);
        }
    }

    private async Task DeclineAsync(PaymentJournal payment, string device, CancellationToken cancellation)
    {
        while (await OnSheetAsync(payment, device, cancellation))
        {
            var answer = await agents.PostAsync(device, $"api/offers/{payment.PaymentId}/decline", new { }, cancellation);
            if (answer.Ok && answer.Read<VerificationView>().Payment is { } view)
            {
                payment.Answered($"decline on {device}", view);
            }

            if (answer.Ok || (answer.Refused && answer.Code != ErrorCodes.NotFound))
            {
                return;
            }

            await Task.Delay(Retry, time, cancellation);
        }
    }

    private async Task CancelByTvAsync(PaymentJournal payment, CancellationToken cancellation)
    {
        while (Open(payment)())
        {
            var answer = await agents.PostAsync(ChaosTopology.Initiator, $"api/payments/{payment.PaymentId}/cancel", new { }, cancellation);
            if (answer.Ok)
            {
                payment.Answered("cancel on tv-1", answer.Read<PaymentView>());
                return;
            }

            if (answer.Refused)
            {
                return;
            }

            await Task.Delay(Retry, time, cancellation);
        }
    }

    private async Task CancelByPayerAsync(PaymentJournal payment, string device, CancellationToken cancellation)
    {
        while (Open(payment)())
        {
            try
            {
                payment.Answered($"cancel on {device}", await household.AsPayer(device).CancelAsync(payment.PaymentId));
                return;
            }
            catch (HandoffException)
            {
                // Refused for good (too late, or the device was not offered the payment).
                return;
            }
            catch (Exception unanswered) when (unanswered is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                await Task.Delay(Retry, time, cancellation);
            }
        }
    }

    /// <summary>Approves, then once Completed gives money back as the plan says, each refund retried under its key until answered.</summary>
    private async Task RefundAsync(PaymentJournal payment, CancellationToken cancellation)
    {
        var plan = payment.Plan;
        await ApproveAsync(payment, plan.Actors[0], plan.Program, 0, cancellation);
        var completed = await CompletedAsync(payment, cancellation);
        if (completed is null)
        {
            return;
        }

        var left = completed.Amount - completed.Refunded;
        (string Key, decimal? Amount)? last = null;
        foreach (var (kind, share, n) in plan.Refunds.Select((refund, n) => (refund.Kind, refund.Share, n)))
        {
            var ask = kind switch
            {
                RefundKind.Repeat when last is { } previous => previous,
                RefundKind.Rest => ($"r{n}", null),
                RefundKind.Over => ($"r{n}", completed.Amount + 1m),
                _ => ($"r{n}", Math.Max(0.01m, Math.Round(left * (decimal)share, 2))),
            };
            last = ask;
            var giveUp = time.GetUtcNow() + RequestGivesUp;
            while (true)
            {
                var answer = await agents.PostAsync(ChaosTopology.Initiator, $"api/payments/{payment.PaymentId}/refund", new RefundBody(ask.Amount, ask.Key), cancellation);
                if (answer.Ok)
                {
                    var view = answer.Read<PaymentView>();
                    payment.Answered($"refund {ask.Key}", view);
                    payment.RefundsConfirmed[ask.Key] = view.Refunds.Single(refund => refund.Id == ask.Key).Amount;
                    left = view.Amount - view.Refunded;
                    break;
                }

                if (answer.Refused || time.GetUtcNow() > giveUp)
                {
                    break;
                }

                await Task.Delay(Retry, time, cancellation);
            }
        }
    }

    /// <summary>The payment once Completed (as the SDK reads it), or null when it ended otherwise or not within the bound.</summary>
    private async Task<PaymentView?> CompletedAsync(PaymentJournal payment, CancellationToken cancellation)
    {
        var giveUp = time.GetUtcNow() + RequestGivesUp;
        while (time.GetUtcNow() < giveUp)
        {
            try
            {
                var snapshot = await household.Tv.GetPaymentAsync(payment.PaymentId);
                payment.Answered("status", snapshot);
                if (snapshot.IsTerminal)
                {
                    return snapshot.State == PaymentState.Completed ? PaymentView.From(snapshot) : null;
                }
            }
            catch (Exception unanswered) when (unanswered is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                // The hub is out: ask again.
            }

            await Task.Delay(Retry, time, cancellation);
        }

        return null;
    }

    /// <summary>Waits until the payment is on <paramref name="device"/>'s sheet; false once it ended or its deadline passed.</summary>
    private async Task<bool> OnSheetAsync(PaymentJournal payment, string device, CancellationToken cancellation)
    {
        var open = Open(payment);
        var waiting = false;
        while (open())
        {
            if (await agents.OffersAsync(device, cancellation) is { } offers && offers.Any(offer => offer.PaymentId == payment.PaymentId))
            {
                return true;
            }

            if (!waiting)
            {
                waiting = true;
                household.Log($"#{payment.Plan.Index} waits for {payment.PaymentId} on {device}'s sheet");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), time, cancellation);
        }

        household.Log($"#{payment.Plan.Index} stops waiting for {payment.PaymentId} on {device}'s sheet: {(payment.Ended ? "it ended" : "its deadline passed")}");
        return false;
    }

    /// <summary>True while nothing said the payment ended and its deadline has not passed.</summary>
    private Func<bool> Open(PaymentJournal payment) => () => !payment.Ended && time.GetUtcNow() < payment.Deadline;

    /// <summary>
    /// Each phone's PIN pad, one entry at a time as on a real phone, keeping count of the wrong PINs the phone may have
    /// counted since its last right one: five in a row lock its payments for minutes, which would leave a short run with
    /// a phone that can no longer pay. A wrong PIN whose answer never came is counted; a right PIN that got no answer
    /// resets nothing.
    /// </summary>
    private sealed class PinPads
    {
        private const int MostWrong = 4;
        private readonly Dictionary<string, (SemaphoreSlim Turn, int Wrong)> _pads = new(StringComparer.Ordinal);

        /// <summary>
        /// Enters one PIN through <paramref name="send"/> in the device's turn: a wrong one when <paramref name="wrong"/> and
        /// the phone's count allows it, else the right one. Null when the payment closed while waiting for the turn.
        /// </summary>
        public async Task<(AgentAnswer Answer, bool RightPin)?> EnterAsync(string device, bool wrong, Func<bool> open, Func<bool, Task<AgentAnswer>> send)
        {
            SemaphoreSlim turn;
            lock (_pads)
            {
                turn = Pad(device).Turn;
            }

            while (!await turn.WaitAsync(TimeSpan.FromMilliseconds(250)))
            {
                if (!open())
                {
                    return null;
                }
            }

            try
            {
                bool rightPin;
                lock (_pads)
                {
                    rightPin = !wrong || Pad(device).Wrong >= MostWrong;
                }

                if (!rightPin)
                {
                    Count(device, count => count + 1);
                }

                var answer = await send(rightPin);

                // A right PIN the phone checked (any answer from it but "not on the sheet") restarts its count.
                if (rightPin && (answer.Ok || (answer.Refused && answer.Code is not ErrorCodes.NotFound and not ErrorCodes.Validation)))
                {
                    Count(device, _ => 0);
                }

                return (answer, rightPin);
            }
            finally
            {
                turn.Release();
            }
        }

        private void Count(string device, Func<int, int> next)
        {
            lock (_pads)
            {
                var pad = Pad(device);
                _pads[device] = (pad.Turn, next(pad.Wrong));
            }
        }

        private (SemaphoreSlim Turn, int Wrong) Pad(string device)
        {
            if (!_pads.TryGetValue(device, out var pad))
            {
                _pads[device] = pad = (new SemaphoreSlim(1, 1), 0);
            }

            return pad;
        }
    }
}
