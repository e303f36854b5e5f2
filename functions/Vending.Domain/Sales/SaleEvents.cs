namespace Vending.Domain.Sales;

/// <summary>Everything that can happen to a sale. <see cref="SaleTransitions.Decide"/> is total over these.</summary>
public abstract record SaleEvent;

/// <summary>The eight ePayment event names, as a closed set.</summary>
public enum VippsEventKind { Created, Authorized, Aborted, Expired, Terminated, Cancelled, Captured, Refunded }

/// <summary>A Vipps payment event, from a webhook or the event log (poll). Duplicates are absorbed by storage
/// (keyed on name and pspReference) before this is decided; late and out-of-order ones are decided here.</summary>
public sealed record VippsEventObserved(
    VippsEventKind Kind,
    long Amount,
    string PspReference,
    string? IdempotencyKey,
    DateTimeOffset Timestamp) : SaleEvent;

/// <summary>Vipps created the payment; <paramref name="Qr"/> is what the machine shows.</summary>
public sealed record PaymentCreateConfirmed(SaleQrSource Qr) : SaleEvent;

/// <summary>Vipps refused creating the payment (a 4xx); <paramref name="Code"/> e.g. "vipps_6010".</summary>
public sealed record PaymentCreateFailed(string Code) : SaleEvent;

public sealed record VendReported(VendReport Report) : SaleEvent;

public sealed record MachineCancelRequested : SaleEvent;

/// <summary>Vipps accepted a command. <paramref name="Aggregate"/> is Vipps' answer, compared with our own sums.</summary>
public sealed record CommandSucceeded(string OperationId, PaymentAggregate? Aggregate) : SaleEvent;

/// <summary>Vipps refused a command permanently. <paramref name="VippsErrorCode"/> e.g. 6060.
/// <paramref name="TraceId"/> is Vipps' id of the refused request (for Vipps support), kept in the sale's history.</summary>
public sealed record CommandFailed(string OperationId, string Code, int? VippsErrorCode, string? TraceId = null) : SaleEvent;

/// <summary>The command's queue message kept failing and ended in the poison queue.</summary>
public sealed record CommandPoisoned(string OperationId) : SaleEvent;

/// <summary>The reconciler re-sent a command whose next attempt is overdue (same operation, same idempotency key,
/// a new message chain: the old one's messages are dropped when they run).</summary>
public sealed record CommandReenqueued(string OperationId) : SaleEvent;

/// <summary>A transient or credentials failure: the command runs again at <paramref name="NextAttemptAt"/> as message
/// <paramref name="Attempt"/> (recorded first, so the reconciler knows the chain is alive and when it is due).</summary>
public sealed record CommandDeferred(string OperationId, int Attempt, DateTimeOffset NextAttemptAt, string Reason, string? TraceId = null) : SaleEvent;

/// <summary>Vipps answered a "not now" code (6160, 6250, 6280). A 4xx stays 4xx for its idempotency key, so the
/// operation is closed with that code and the same command is issued again under a new operation (a new key).</summary>
public sealed record CommandNotNow(string OperationId, string Code, DateTimeOffset NextAttemptAt, string? TraceId = null) : SaleEvent;

/// <summary>An operator asks to run the sale's failed operation again (under a new operation and key).</summary>
public sealed record OperatorRetryRequested : SaleEvent;

/// <summary>An operator asks to release whatever is still reserved.</summary>
public sealed record OperatorReleaseRequested : SaleEvent;

/// <summary>A vend report the sale no longer accepts (too late, or after a release): kept, not acted on.</summary>
public sealed record LateVendReported(VendReport Report) : SaleEvent;

/// <summary>Authorized, and no vend report within the deadline: the machine probably crashed.</summary>
public sealed record VendDeadlinePassed : SaleEvent;

/// <summary>Past expiry plus grace and Vipps still says CREATED: treat as expired.</summary>
public sealed record PaymentExpiryPassed : SaleEvent;

public sealed record RefundRequested(long Amount) : SaleEvent;

/// <summary>Vipps' aggregate differs from our record (found by the reconciler).</summary>
public sealed record DivergenceObserved(string Detail) : SaleEvent;

public sealed record PaymentAggregate(long Authorized, long Captured, long Cancelled, long Refunded);
