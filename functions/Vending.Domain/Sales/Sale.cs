using Vending.Domain.Machines;

namespace Vending.Domain.Sales;

/// <summary>
/// The whole of what we know about one sale: the snapshot the pure <see cref="SaleTransitions"/> decide on and the
/// state row stores. Immutable: a transition returns a new snapshot.
/// </summary>
public sealed record Sale
{
    public required string Reference { get; init; }
    public required string MachineId { get; init; }
    public required string MachineSaleId { get; init; }
    public required string MerchantId { get; init; }
    public required string Currency { get; init; }
    public required CaptureMode CaptureMode { get; init; }
    public required SaleState State { get; init; }
    public required long Amount { get; init; }
    public long AuthorizedAmount { get; init; }
    public long CapturedAmount { get; init; }
    public long CancelledAmount { get; init; }
    public long RefundedAmount { get; init; }

    /// <summary>What the vend report says left the machine (0 until a report).</summary>
    public long DeliveredAmount { get; init; }

    public required IReadOnlyList<SaleLine> Lines { get; init; }

    /// <summary>Vipps confirmed the payment exists. False while the create call has not (yet) succeeded.</summary>
    public bool PaymentCreated { get; init; }

    /// <summary>Where the machine's QR comes from, known once the payment is created.</summary>
    public SaleQrSource? Qr { get; init; }

    /// <summary>The QR the machine asked for at create time (format and size).</summary>
    public required QrRequest QrRequest { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When the money was reserved (null: never authorized, so nothing to release).</summary>
    public DateTimeOffset? AuthorizedAt { get; init; }

    public string? FailureCode { get; init; }

    /// <summary>The machine's vend report, once received (kept to answer a repeat identically).</summary>
    public VendReport? Vend { get; init; }

    /// <summary>The machine cancelled; whatever gets authorized from now on is released, never captured.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>The vend report did not come in time: the reservation is released; a late report is refused.</summary>
    public bool VendDeadlineMissed { get; init; }

    /// <summary>Whatever is (or gets) authorized must be released, never captured: the machine cancelled, missed its
    /// vend deadline, or the authorization came after the sale had already ended.</summary>
    public bool ReleaseOnly { get; init; }

    /// <summary>The reconciler inferred expiry (Vipps still said CREATED past our deadline) and terminates the payment
    /// at Vipps; the sale ends Expired unless money got reserved meanwhile (then that is released).</summary>
    public bool ExpiryInferred { get; init; }

    /// <summary>A vend report that came after the sale stopped accepting one (too late, or after a release): kept so
    /// that goods given away are not forgotten.</summary>
    public VendReport? LateVend { get; init; }

    /// <summary>What the late report says left the machine and was not charged (minor units; 0 when none).</summary>
    public long DeliveredNotChargedAmount { get; init; }

    /// <summary>Every capture / cancel / refund we asked Vipps for, in order; each has its stable idempotency key.</summary>
    public IReadOnlyList<SaleOperation> Operations { get; init; } = [];

    /// <summary>The last history row written (<c>h-{HistorySequence:D6}</c>).</summary>
    public long HistorySequence { get; init; }

    /// <summary>The last outbox row written (<c>o-{OutboxSequence:D6}</c>).</summary>
    public long OutboxSequence { get; init; }

    /// <summary>The last divergence from Vipps' aggregate we recorded, so a repeat is not recorded again.</summary>
    public string? LastDivergence { get; init; }

    public bool IsFinal => State.IsFinal();

    /// <summary>
    /// The machine still has a part to play in this sale (show the QR, dispense, report), so it may not start another.
    /// Once it reported the vend, cancelled, or missed its vend deadline, what is left (capture, release, refund) is
    /// ours and Vipps': a Vipps outage that keeps the capture pending for minutes must not take the machine out of
    /// service.
    /// </summary>
    public bool OccupiesMachine => !IsFinal && Vend is null && !CancelRequested && !VendDeadlineMissed;

    public bool HasPendingOperations => Operations.Any(operation => operation.Status == OperationStatus.Pending);

    public SaleOperation? FindPending(OperationKind kind) =>
        Operations.FirstOrDefault(operation => operation.Kind == kind && operation.Status == OperationStatus.Pending);

    public SaleOperation? FindOperation(string operationId) =>
        Operations.FirstOrDefault(operation => operation.Id == operationId);
}

public sealed record SaleLine(string ProductId, string Name, int Quantity, long UnitPrice, int TaxRate)
{
    /// <summary>Checked: validation guarantees it fits, a corrupt row throws rather than wraps.</summary>
    public long TotalAmount => checked(Quantity * UnitPrice);
}

/// <summary>Where the QR comes from. <see cref="Kind"/> "targetUrl": Vipps gave the target URL and we render the QR
/// ourselves (merchant approved for TEXT/TARGETURL); "image": <see cref="Url"/> is Vipps' QR image, shown as is.</summary>
public sealed record SaleQrSource(string Kind, string Url)
{
    public const string TargetUrl = "targetUrl";
    public const string Image = "image";
}

public enum OperationKind
{
    /// <summary>Capture of a delivered amount.</summary>
    Capture,

    /// <summary>Cancel after authorization: releases the whole uncaptured remainder.</summary>
    Release,

    /// <summary>Cancel with cancelTransactionOnly=true: ends a payment not yet authorized; Vipps answers 6060 if it was.</summary>
    Terminate,

    /// <summary>Refund of captured money (operator, or undelivered goods under capture at authorization).</summary>
    Refund,
}

public enum OperationStatus { Pending, Succeeded, Failed }

/// <summary>One command to Vipps. <see cref="IdempotencyKey"/> is fixed when it is issued and reused by every retry.
/// <see cref="Attempt"/> numbers the one live message chain of the operation: a queue message with a lower attempt
/// belongs to a chain that was superseded (backoff recorded, or the reconciler re-sent it) and is dropped.
/// <see cref="LastError"/> is the last transient or credentials failure, shown in the reconciliation report.</summary>
public sealed record SaleOperation(
    string Id,
    OperationKind Kind,
    long Amount,
    string IdempotencyKey,
    OperationStatus Status,
    DateTimeOffset IssuedAt,
    DateTimeOffset EnqueuedAt,
    string? FailureCode = null,
    bool ConfirmedByVipps = false,
    int Attempt = 0,
    DateTimeOffset? NextAttemptAt = null,
    string? LastError = null)
{
    /// <summary>When the reconciler may consider this operation's chain lost: its next attempt (a backoff) or,
    /// without one, when it was last enqueued.</summary>
    public DateTimeOffset DueAt => NextAttemptAt is { } next && next > EnqueuedAt ? next : EnqueuedAt;
}

public static class SaleStateExtensions
{
    /// <summary>Final for the machine: nothing more happens unless Vipps tells us something late
    /// (which <see cref="SaleTransitions"/> still handles) or an operator refunds.</summary>
    public static bool IsFinal(this SaleState state) =>
        state is not (SaleState.Created or SaleState.Authorized or SaleState.Settling);
}
