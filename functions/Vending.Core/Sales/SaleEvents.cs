namespace Vending.Core.Sales;

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

/// <summary>Vipps refused a command permanently. <paramref name="VippsErrorCode"/> e.g. 6060.</summary>
public sealed record CommandFailed(string OperationId, string Code, int? VippsErrorCode) : SaleEvent;

/// <summary>The command's queue message kept failing and ended in the poison queue.</summary>
public sealed record CommandPoisoned(string OperationId) : SaleEvent;

/// <summary>The reconciler re-sent a command that stayed pending too long (same operation, same idempotency key).</summary>
public sealed record CommandReenqueued(string OperationId) : SaleEvent;

/// <summary>Authorized, and no vend report within the deadline: the machine probably crashed.</summary>
public sealed record VendDeadlinePassed : SaleEvent;

/// <summary>Past expiry plus grace and Vipps still says CREATED: treat as expired.</summary>
public sealed record PaymentExpiryPassed : SaleEvent;

public sealed record RefundRequested(long Amount) : SaleEvent;

/// <summary>Vipps' aggregate differs from our record (found by the reconciler).</summary>
public sealed record DivergenceObserved(string Detail) : SaleEvent;

public sealed record PaymentAggregate(long Authorized, long Captured, long Cancelled, long Refunded);
