using System.CommandLine;
using System.Globalization;
using System.Text;
using Handoff.Contracts;
using Handoff.Contracts.Validation;
using Handoff.Sdk;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>Commands that act through the SDK: devices, pay, status, cancel.</summary>
internal static class ClientCommands
{
    /// <summary>The identity the CLI uses for read-only calls.</summary>
    internal const string CliDevice = "handoff-cli";

    private static readonly Argument<string> PaymentArgument = new("payment") { Description = "Payment id (pay-…)" };

    public static IEnumerable<Command> Create() => [Devices(), Pay(), Status(), Cancel(), Refund()];

    private static Command Devices()
    {
        var command = new Command("devices", "List the household's devices: kind, role, capabilities, online.");
        foreach (var admin in AdminCommands.DeviceAdmin())
        {
            command.Subcommands.Add(admin);
        }

        command.SetAction((parsed, cancellation) => WithClientAsync(parsed, CliDevice, cancellation, async (client, output) =>
        {
            var listed = await client.ListDevicesAsync();
            var members = await client.ListMembersAsync();
            var devices = listed.Select(device => DeviceView.From(device, members)).ToList();
            return output.Result(devices, RenderDevices);
        }));
        return command;
    }

    private static Command Pay()
    {
        var from = new Option<string>("--from") { Description = "The initiator device asking for the payment", Required = true };
        var to = new Option<string>("--to") { Description = "Who pays: a payer device, several (phone-1,watch-1: the first to approve pays) or any (every payer device online)", Required = true };
        var amount = new Option<string?>("--amount") { Description = "Amount, e.g. 12.50" };
        var currency = new Option<string?>("--currency") { Description = "ISO 4217 code, e.g. CNY" };
        var merchant = new Option<string?>("--merchant") { Description = "Who is paid" };
        var description = new Option<string?>("--description") { Description = "What is bought" };
        var category = new Option<string?>("--category") { Description = "What kind of thing is bought, e.g. games: a member's rules may send a category to a guardian" };
        var order = new Option<string?>("--order") { Description = "Order key: the same key and content return the same payment [default: new]" };
        var expiresIn = CliValues.Duration("--expires-in", "How long the payer has to verify, e.g. 90s or 2m [default 2m]");
        var wait = new Option<bool>("--wait") { Description = "Follow the payment until it ends; exit 0 only if Completed" };
        var command = new Command("pay", "Hand a payment off from an initiator device to a payer device.")
        {
            from, to, amount, currency, merchant, description, category, order, expiresIn, wait,
        };
        var details = new Option<FileInfo?>("--details") { Description = "W3C PaymentDetailsInit JSON (id, total, displayItems), with merchant {name} or --merchant, instead of --amount/--currency" };
        command.Options.Add(details);
        command.Validators.Add(result =>
        {
            // A W3C details object has no payee: --merchant may come with --details; the amount may not.
            var fromFile = result.GetValue(details) is not null;
            var amountGiven = result.GetValue(amount) is not null || result.GetValue(currency) is not null;
            if (fromFile ? amountGiven : result.GetValue(amount) is null || result.GetValue(currency) is null || result.GetValue(merchant) is null)
            {
                result.AddError("give either --details FILE [--merchant NAME] or all of --amount, --currency and --merchant");
            }
        });
        command.SetAction((parsed, cancellation) => WithClientAsync(parsed, DeviceIds.Require(parsed.GetValue(from), "from"), cancellation, async (client, output) =>
        {
            client = client.As(client.DeviceId, CliOptions.SignerFor(parsed, client.DeviceId));
            var (info, detailsId) = parsed.GetValue(details) is { } file
                ? ReadDetails(file, parsed.GetValue(merchant))
                : (new PaymentInfo(
                    ParseAmount(parsed.GetValue(amount)!),
                    PaymentRules.RequireCurrency(parsed.GetValue(currency), "currency"),
                    parsed.GetValue(merchant)!,
                    parsed.GetValue(description)), null);
            if (parsed.GetValue(category) is { } kind)
            {
                info = info with { Category = DeviceIds.Require(kind, "category") };
            }

            var expiry = parsed.GetValue(expiresIn);
            var payment = await client.RequestPaymentAsync(info, PayerChoice.Of(PayerChoice.Named(parsed.GetValue(to), "to")), parsed.GetValue(order) ?? detailsId, expiry);
            if (!parsed.GetValue(wait))
            {
                return output.Result(PaymentView.From(payment), RenderPayment);
            }

            output.Progress($"{payment.PaymentId}: waiting for {string.Join(" or ", payment.Payers)} (Ctrl+C stops waiting, not the payment)");
            PaymentSnapshot last = payment;
            await foreach (var update in client.WatchAsync(payment.PaymentId, cancellation))
            {
                if (update.Version > 2)
                {
                    output.Progress(RenderStep(update.History[^1]));
                }

                last = update;
            }

            return last.State == PaymentState.Completed
                ? output.Result(PaymentView.From(last), RenderPayment)
                : output.Error(PaymentNotCompletedException.For(last).Code, PaymentNotCompletedException.For(last).Message);
        }));
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Show a payment: its state and the history of its transitions.") { PaymentArgument };
        command.SetAction((parsed, cancellation) => WithClientAsync(parsed, CliDevice, cancellation, async (client, output) =>
            output.Result(PaymentView.From(await client.GetPaymentAsync(parsed.GetValue(PaymentArgument)!)), RenderPayment)));
        return command;
    }

    private static Command Cancel()
    {
        var asDevice = new Option<string?>("--as") { Description = "The device that cancels (initiator or payer) [default: the payment's initiator]" };
        var command = new Command("cancel", "Cancel a payment before it is authorized.") { PaymentArgument, asDevice };
        command.SetAction((parsed, cancellation) => WithClientAsync(parsed, CliDevice, cancellation, async (lookup, output) =>
        {
            var paymentId = parsed.GetValue(PaymentArgument)!;
            var device = parsed.GetValue(asDevice) ?? (await lookup.GetPaymentAsync(paymentId)).InitiatorDeviceId;
            var canceller = DeviceIds.Require(device, "as");
            var cancelled = await lookup.As(canceller, CliOptions.SignerFor(parsed, canceller)).CancelAsync(paymentId);
            return output.Result(PaymentView.From(cancelled), RenderPayment);
        }));
        return command;
    }

    private static Command Refund()
    {
        var amount = new Option<string?>("--amount") { Description = "How much to give back, e.g. 5.00 [default: all that is left]" };
        var key = new Option<string?>("--key") { Description = "Refund key: the same key again is the same refund [default: new]" };
        var command = new Command("refund", "Give back part or all of a completed payment, as its initiator, to the device that paid.") { PaymentArgument, amount, key };
        command.SetAction((parsed, cancellation) => WithClientAsync(parsed, CliDevice, cancellation, async (lookup, output) =>
        {
            var paymentId = parsed.GetValue(PaymentArgument)!;
            var refundAmount = parsed.GetValue(amount) is { } text ? ParseAmount(text) : (decimal?)null;
            var refundKey = parsed.GetValue(key) is { } given ? DeviceIds.Require(given, "key") : null;
            var initiator = (await lookup.GetPaymentAsync(paymentId)).InitiatorDeviceId;
            var refunded = await lookup.As(initiator, CliOptions.SignerFor(parsed, initiator)).RefundAsync(paymentId, refundAmount, refundKey);
            return output.Result(PaymentView.From(refunded), RenderPayment);
        }));
        return command;
    }

    internal static Task<int> WithClientAsync(
        ParseResult parsed,
        string deviceId,
        CancellationToken cancellation,
        Func<HandoffClient, Output, Task<int>> body)
    {
        var output = new Output(parsed.GetValue(CliOptions.Json));
        return output.RunAsync(async () =>
        {
            // The CLI's own reads speak as the household's administrator where the hub's admin token is at hand,
            // else as a paired device whose key this machine holds.
            var (adminToken, reader) = deviceId == CliDevice ? CliOptions.Reader(parsed) : (null, deviceId);
            var options = new HandoffClientOptions
            {
                HouseholdId = DeviceIds.Require(parsed.GetValue(CliOptions.Household), "household"),
                DeviceId = reader,
                KeysFolder = parsed.GetValue(CliOptions.Keys),
                AdminToken = adminToken,
            };
            options.Gateways.Clear();
            options.Gateways.Add(parsed.GetValue(CliOptions.Gateway)!);
            options.Clustering = CliOptions.ClusteringFrom(parsed);
            options.Certificate = CliOptions.CertificateFrom(parsed);
            CliTelemetry.Attach(options);
            await using var client = await HandoffClient.ConnectAsync(options, cancellation);
            return await body(client, output);
        });
    }

    private static (PaymentInfo Info, string? Id) ReadDetails(FileInfo file, string? merchant)
    {
        if (!file.Exists)
        {
            throw new ValidationException("details", $"no file {file.FullName}", ErrorCodes.MissingField);
        }

        if (file.Length > PaymentRules.MaxDetailsBytes)
        {
            throw new ValidationException("details", $"is {file.Length} bytes, at most {PaymentRules.MaxDetailsBytes} are accepted", ErrorCodes.PayloadTooLarge);
        }

        var read = PaymentDetailsReader.Read(File.ReadAllBytes(file.FullName), merchant);
        return (read.Info, read.Id);
    }

    /// <summary>An amount given on the command line, or a validation error naming <paramref name="field"/>.</summary>
    internal static decimal ParseAmount(string text, string field = "amount") =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ValidationException(field, $"'{text}' is not a decimal amount such as 12.50", ErrorCodes.InvalidAmount);

    public static string RenderDevices(IReadOnlyList<DeviceView> devices)
    {
        if (devices.Count == 0)
        {
            return "no devices in this household yet";
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"ID",-16} {"KIND",-7} {"ROLE",-10} {"ONLINE",-7} {"PAYS",-5} {"AUTH",-14} NAME");
        foreach (var device in devices)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{device.Id,-16} {device.Kind,-7} {device.Role,-10} {(device.Online ? "yes" : "no"),-7} {(device.Capabilities.CanPay ? "yes" : "no"),-5} {string.Join(',', device.Capabilities.AuthMethods),-14} {device.DisplayName}{(device.Owner is { } owner ? $" ({owner}'s)" : string.Empty)}");
        }

        return text.ToString().TrimEnd();
    }

    public static string RenderPayment(PaymentView payment)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{payment.PaymentId}  {payment.State}  {payment.AmountText} to {payment.Merchant}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {payment.Initiator} -> {payment.Payer ?? string.Join(" or ", payment.Payers)}, order {payment.OrderKey}, deadline {payment.DeadlineText}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  match code {payment.MatchCode}: the payer's sheet shows the same");
        if (payment.AskedBy is { } asker)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  asked by {asker.Name} ({asker.Id}){(payment.Rule is { } rule ? $": {rule.Text}" : string.Empty)}");
        }

        if (payment.AwaitsGuardian)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  waiting for a guardian: {string.Join(" or ", payment.Rule!.Guardians.Select(guardian => guardian.Name))}");
        }

        if (payment.ApprovedBy is { } guardian)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  approved by {guardian.Name} ({guardian.Id})");
        }
        if (payment.FailureReason is { } reason)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  reason: {reason}");
        }

        foreach (var step in payment.History)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {DisplayText.StepTime(step.At)} {step.To,-10} {step.Device,-12} {step.Cause}");
        }

        if (payment.Refunds.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  refunded {payment.RefundedText} of {payment.AmountText}");
            foreach (var refund in payment.Refunds)
            {
                var where = refund.LedgerEntry is { } entry ? $"ledger entry {entry}" : "being booked";
                text.AppendLine(CultureInfo.InvariantCulture, $"  {DisplayText.StepTime(refund.At)} refund     {refund.Id,-12} {refund.AmountText}, {where}");
            }
        }

        return text.ToString().TrimEnd();
    }

    private static string RenderStep(PaymentTransition step) =>
        $"  {DisplayText.StepTime(step.At)} {step.To,-10} {step.Device,-12} {step.Cause}";
}
