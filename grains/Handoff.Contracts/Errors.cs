namespace Handoff.Contracts;

/// <summary>Stable error codes: the CLI's <c>{"error": {"code"}}</c> and the SDK's exception types use them.</summary>
public static class ErrorCodes
{
    public const string PayerOffline = "payer_offline";
    public const string NotCapable = "not_capable";
    public const string Validation = "validation";
    public const string Conflict = "conflict";
    public const string Expired = "expired";
    public const string Declined = "declined";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string NotFound = "not_found";
    public const string Forbidden = "forbidden";
    public const string SessionExpired = "session_expired";
    public const string IllegalTransition = "illegal_transition";
    public const string Unavailable = "unavailable";
    public const string WrongPin = "wrong_pin";
    public const string NotPending = "not_pending";
    public const string Locked = "locked";
    public const string AlreadyPaid = "already_paid";
    public const string OverRefund = "over_refund";
    public const string NotRefundable = "not_refundable";
    public const string InsufficientFunds = "insufficient_funds";
    public const string BudgetExceeded = "budget_exceeded";
    public const string NotAllowed = "not_allowed";

    // Refusals of malformed payment requests: each names the field in its message.
    public const string InvalidJson = "invalid_json";
    public const string MissingField = "missing_field";
    public const string WrongType = "wrong_type";
    public const string InvalidAmount = "invalid_amount";
    public const string NonPositiveAmount = "non_positive_amount";
    public const string InvalidCurrency = "invalid_currency";
    public const string UnknownCurrency = "unknown_currency";
    public const string TooManyDecimals = "too_many_decimals";
    public const string ItemsMismatch = "items_mismatch";
    public const string TooLong = "too_long";
    public const string TooManyItems = "too_many_items";
    public const string PayloadTooLarge = "payload_too_large";
    public const string LimitExceeded = "limit_exceeded";
    public const string InvalidId = "invalid_id";
    public const string SameDevice = "same_device";
    public const string InvalidExpiry = "invalid_expiry";
    public const string InvalidText = "invalid_text";
}

/// <summary>Base of every error the handoff reports on purpose; <see cref="Code"/> is stable.</summary>
[GenerateSerializer, Alias("handoff.HandoffException")]
public class HandoffException : Exception
{
    public HandoffException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public HandoffException(string code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    [Id(0)]
    public string Code { get; }
}

/// <summary>No live silo carries the payer device: the payment program cannot start there.</summary>
[GenerateSerializer, Alias("handoff.PayerOfflineException")]
public sealed class PayerOfflineException(string deviceId)
    : HandoffException(ErrorCodes.PayerOffline, $"payer offline: no running payer agent hosts device '{deviceId}'")
{
    [Id(0)]
    public string DeviceId { get; } = deviceId;
}

/// <summary>The chosen device cannot act as a payer.</summary>
[GenerateSerializer, Alias("handoff.NotCapableException")]
public sealed class NotCapableException(string deviceId, string message)
    : HandoffException(ErrorCodes.NotCapable, message)
{
    [Id(0)]
    public string DeviceId { get; } = deviceId;
}

/// <summary>A field of a request is malformed; <see cref="Field"/> names it and the code says how.</summary>
[GenerateSerializer, Alias("handoff.ValidationException")]
public sealed class ValidationException(string field, string message, string code = ErrorCodes.Validation)
    : HandoffException(code, $"{field}: {message}")
{
    [Id(0)]
    public string Field { get; } = field;
}

/// <summary>The order key is already used for a payment with other content.</summary>
[GenerateSerializer, Alias("handoff.ConflictException")]
public sealed class ConflictException(string message) : HandoffException(ErrorCodes.Conflict, message);

/// <summary>A refund would give back more than the payment charged, counting the refunds before it.</summary>
[GenerateSerializer, Alias("handoff.OverRefundException")]
public sealed class OverRefundException(string message) : HandoffException(ErrorCodes.OverRefund, message);

/// <summary>Only a payment that charged money (Completed) can be refunded.</summary>
[GenerateSerializer, Alias("handoff.NotRefundableException")]
public sealed class NotRefundableException(string paymentId, PaymentState state)
    : HandoffException(ErrorCodes.NotRefundable, $"payment '{paymentId}' is {state}: only a completed payment can be refunded")
{
    [Id(0)]
    public PaymentState State { get; } = state;
}

/// <summary>Another payer device approved first: the payment is paid (or being paid) there, and only there.</summary>
[GenerateSerializer, Alias("handoff.AlreadyPaidException")]
public sealed class AlreadyPaidException(string paymentId, string paidOn)
    : HandoffException(ErrorCodes.AlreadyPaid, $"payment '{paymentId}' is already paid on device '{paidOn}'")
{
    [Id(0)]
    public string PaidOn { get; } = paidOn;
}

/// <summary>The chosen payment program has less left than the payment asks (its balance plus its credit limit).</summary>
[GenerateSerializer, Alias("handoff.InsufficientFundsException")]
public sealed class InsufficientFundsException(string programId, decimal left, string currency)
    : HandoffException(ErrorCodes.InsufficientFunds, $"insufficient funds: program '{programId}' has {left} {currency} left")
{
    [Id(0)]
    public string ProgramId { get; } = programId;

    [Id(1)]
    public decimal Left { get; } = left;
}

/// <summary>A member's request is over their budget or their ceiling for one payment, and their rules ask no guardian.</summary>
[GenerateSerializer, Alias("handoff.BudgetExceededException")]
public sealed class BudgetExceededException(string memberId, decimal left, string currency, string message)
    : HandoffException(ErrorCodes.BudgetExceeded, message)
{
    [Id(0)]
    public string MemberId { get; } = memberId;

    /// <summary>What is left of the member's budget this month.</summary>
    [Id(1)]
    public decimal Left { get; } = left;

    [Id(2)]
    public string Currency { get; } = currency;
}

/// <summary>A member's rules do not let them make this payment alone, and no guardian can be asked.</summary>
[GenerateSerializer, Alias("handoff.NotAllowedException")]
public sealed class NotAllowedException(string memberId, string message)
    : HandoffException(ErrorCodes.NotAllowed, message)
{
    [Id(0)]
    public string MemberId { get; } = memberId;
}

/// <summary>A device, household or payment does not exist (or is not visible to the caller).</summary>
[GenerateSerializer, Alias("handoff.NotFoundException")]
public sealed class NotFoundException(string message) : HandoffException(ErrorCodes.NotFound, message);

/// <summary>The caller may not act on this payment or device.</summary>
[GenerateSerializer, Alias("handoff.ForbiddenException")]
public sealed class ForbiddenException(string message) : HandoffException(ErrorCodes.Forbidden, message);

/// <summary>The caller's session credential has expired (or the hub's key changed): open a new session.</summary>
[GenerateSerializer, Alias("handoff.SessionExpiredException")]
public sealed class SessionExpiredException(string message) : HandoffException(ErrorCodes.SessionExpired, message);

/// <summary>The payment is not in a state that allows the requested step.</summary>
[GenerateSerializer, Alias("handoff.IllegalTransitionException")]
public sealed class IllegalTransitionException(string paymentId, PaymentState from, PaymentState to)
    : HandoffException(ErrorCodes.IllegalTransition, $"payment '{paymentId}' cannot move from {from} to {to}")
{
    [Id(0)]
    public PaymentState From { get; } = from;

    [Id(1)]
    public PaymentState To { get; } = to;
}

/// <summary>The payment ended without being paid; <see cref="Payment"/> says how.</summary>
[GenerateSerializer, Alias("handoff.PaymentNotCompletedException")]
public class PaymentNotCompletedException(string code, PaymentSnapshot payment)
    : HandoffException(code, $"payment '{payment.PaymentId}' ended {payment.State}" + (payment.FailureReason is { } reason ? $": {reason}" : string.Empty))
{
    [Id(0)]
    public PaymentSnapshot Payment { get; } = payment;

    /// <summary>The typed exception for a payment that reached a terminal state other than Completed.</summary>
    public static PaymentNotCompletedException For(PaymentSnapshot payment) => payment.State switch
    {
        PaymentState.Declined => new PaymentDeclinedException(payment),
        PaymentState.Expired => new PaymentExpiredException(payment),
        PaymentState.Cancelled => new PaymentCancelledException(payment),
        _ => new PaymentNotCompletedException(ErrorCodes.Failed, payment),
    };
}

/// <summary>The person declined, or failed verification, on the payer device.</summary>
[GenerateSerializer, Alias("handoff.PaymentDeclinedException")]
public sealed class PaymentDeclinedException(PaymentSnapshot payment) : PaymentNotCompletedException(ErrorCodes.Declined, payment);

/// <summary>Nobody verified the payment before its deadline.</summary>
[GenerateSerializer, Alias("handoff.PaymentExpiredException")]
public sealed class PaymentExpiredException(PaymentSnapshot payment) : PaymentNotCompletedException(ErrorCodes.Expired, payment);

/// <summary>One of the two devices cancelled the payment.</summary>
[GenerateSerializer, Alias("handoff.PaymentCancelledException")]
public sealed class PaymentCancelledException(PaymentSnapshot payment) : PaymentNotCompletedException(ErrorCodes.Cancelled, payment);
