using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Handoff.Contracts;
using Handoff.LocalApi;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>
/// <c>handoff approve|decline</c>: act as the person at the payer device, through its agent's local API, with the
/// agent's own Origin and the token its launch wrote beside the keys (so this works for the agent's user only).
/// </summary>
internal static class PayerCommands
{
    private static readonly Argument<string> PaymentArgument = new("payment") { Description = "Payment id (pay-…) on the device's sheet" };

    public static IEnumerable<Command> Create() => [Approve(), Decline()];

    private static Command Approve()
    {
        var pin = new Option<string>("--pin") { Description = "The device's PIN", Required = true };
        var program = new Option<string?>("--program") { Description = "The payment program that pays (see handoff programs) [default: the device's last used, else its first in the payment's currency]" };
        var command = new Command("approve", "Verify a payment on the payer device with its PIN.") { PaymentArgument, pin, program, CliOptions.PayerUrl };
        command.SetAction((parsed, cancellation) => CallAsync(
            parsed,
            $"api/offers/{Uri.EscapeDataString(parsed.GetValue(PaymentArgument)!)}/approve",
            new ApproveBody(parsed.GetValue(pin)!, parsed.GetValue(program)),
            declining: false,
            cancellation));
        return command;
    }

    private static Command Decline()
    {
        var command = new Command("decline", "Decline a payment on the payer device.") { PaymentArgument, CliOptions.PayerUrl };
        command.SetAction((parsed, cancellation) => CallAsync(
            parsed,
            $"api/offers/{Uri.EscapeDataString(parsed.GetValue(PaymentArgument)!)}/decline",
            new { },
            declining: true,
            cancellation));
        return command;
    }

    private static Task<int> CallAsync<TBody>(ParseResult parsed, string path, TBody body, bool declining, CancellationToken cancellation)
    {
        var output = new Output(parsed.GetValue(CliOptions.Json));
        return output.RunAsync(async () =>
        {
            var baseUrl = parsed.GetValue(CliOptions.PayerUrl)!.TrimEnd('/') + "/";
            var agent = new Uri(baseUrl);
            var token = LocalApiToken.Read(parsed.GetValue(CliOptions.Keys)!, LocalApiToken.PayerAgent, agent.Port);
            using var http = new HttpClient { BaseAddress = agent, Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("Origin", agent.GetLeftPart(UriPartial.Authority));
            http.DefaultRequestHeaders.Add(LocalApiRules.TokenHeader, token);
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsJsonAsync(path, body, HandoffJson.Options, cancellation);
            }
            catch (HttpRequestException unreachable)
            {
                throw new HandoffException(ErrorCodes.Unavailable, $"no payer agent answers at {baseUrl}: {unreachable.Message}");
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    var error = await ReadErrorAsync(response, cancellation);
                    return output.Error(error?.Error.Code ?? ErrorCodes.Failed, error?.Error.Message ?? $"the payer agent at {baseUrl} answered HTTP {(int)response.StatusCode}");
                }

                var result = (await response.Content.ReadFromJsonAsync<VerificationView>(HandoffJson.Options, cancellation))!;
                return result.Outcome switch
                {
                    "approved" when result.Payment is { State: nameof(PaymentState.Completed) } payment => output.Result(payment, ClientCommands.RenderPayment),
                    "wrongPin" => output.Error(ErrorCodes.WrongPin, $"wrong PIN: {result.TriesLeft} {(result.TriesLeft == 1 ? "try" : "tries")} left"),
                    "locked" => output.Error(ErrorCodes.Locked, $"too many wrong PINs: this device's payments are locked until {result.LockedUntil:HH:mm:ss}"),
                    // Declined by the device itself: the person typed too many wrong PINs, and did not decline.
                    "tooManyWrongPins" when result.Payment is { } payment =>
                        output.Error(ErrorCodes.Declined, $"payment {payment.PaymentId} declined after {payment.FailureReason}: nothing was charged"),
                    "declined" when result.Payment is { } payment => declining
                        ? output.Result(payment, ClientCommands.RenderPayment)
                        : output.Error(ErrorCodes.Declined, $"payment {payment.PaymentId} declined: {payment.FailureReason}"),
                    _ when result.Payment is { } payment => output.Error(ErrorCodes.NotPending, $"payment {payment.PaymentId} is no longer waiting on this device: it is {payment.State}"),
                    _ => output.Error(ErrorCodes.NotPending, "the payment is no longer waiting on this device"),
                };
            }
        });
    }

    private static async Task<ErrorView?> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<ErrorView>(HandoffJson.Options, cancellation);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
