using Vending.Domain.Machines;

namespace Vending.Domain.Sales;

public static partial class SaleTransitions
{
    /// <summary>Vipps errors that end a terminate (cancelTransactionOnly) because the payment was authorized meanwhile.</summary>
    public const int CannotCancelAuthorized = 6060;

    /// <summary>
    /// Moves a sale that is closing one step on: while a command is in flight, wait (Settling); otherwise issue the
    /// next command (capture what is due, then release the rest, then refund undelivered goods captured at
    /// authorization); with nothing left, the final state. Returns the final state's outbox transition when it changed.
    /// </summary>
    internal static (Sale Sale, IReadOnlyList<SaleOperation> Commands, string? FinalTransition) Settle(Sale sale, DateTimeOffset now)
    {
        if (sale.HasPendingOperations)
        {
            return (sale with { State = SaleState.Settling }, [], null);
        }

        if (sale.AuthorizedAt is not null)
        {
            var captureDue = CaptureTarget(sale) - sale.CapturedAmount;
            if (captureDue > 0 && !sale.Operations.Any(operation => operation.Kind == OperationKind.Capture && operation.Status == OperationStatus.Failed))
            {
                return Issue(sale, NewOperation(sale, OperationKind.Capture, captureDue, now));
            }

            var remainder = sale.AuthorizedAmount - sale.CapturedAmount - sale.CancelledAmount;
            if (remainder > 0)
            {
                // After the capture: a release frees the whole uncaptured remainder and would make a later capture fail.
                return Issue(sale, NewOperation(sale, OperationKind.Release, remainder, now));
            }

            var undelivered = sale.CapturedAmount - sale.DeliveredAmount;
            if (sale.CaptureMode == CaptureMode.OnAuthorization && (sale.Vend is not null || sale.VendDeadlineMissed) && undelivered > 0
                && !sale.Operations.Any(operation => operation.Kind == OperationKind.Refund))
            {
                // Captured at authorization, not all delivered: the only way to give that money back is a refund.
                return Issue(sale, NewOperation(sale, OperationKind.Refund, undelivered, now));
            }
        }

        var final = CaptureFailedForGood(sale) ? SaleState.Failed
            : sale.RefundedAmount > 0 && sale.RefundedAmount >= sale.CapturedAmount ? SaleState.Refunded
            : sale.CapturedAmount > 0 ? SaleState.Captured
            : sale.ExpiryInferred && sale.AuthorizedAt is null ? SaleState.Expired
            : SaleState.Cancelled;
        return (sale with { State = final }, [], final == sale.State ? null : Transition(final));
    }

    /// <summary>A capture was refused for good (its code is the sale's failure code) and less than was delivered is
    /// captured: the rest has been released, and the sale ends Failed so an operator sees goods not charged.</summary>
    private static bool CaptureFailedForGood(Sale sale) =>
        sale.FailureCode is not null
        && sale.Operations.Any(operation => operation.Kind == OperationKind.Capture && operation.Status == OperationStatus.Failed && operation.FailureCode == sale.FailureCode)
        && CaptureTarget(sale) > sale.CapturedAmount;

    /// <summary>How much of the authorization should end up captured.</summary>
    private static long CaptureTarget(Sale sale) => sale switch
    {
        { ReleaseOnly: true } => 0,
        { CaptureMode: CaptureMode.OnAuthorization } => sale.AuthorizedAmount,
        { Vend: not null } => Math.Min(sale.DeliveredAmount, sale.AuthorizedAmount),
        _ => 0,
    };

    private static (Sale, IReadOnlyList<SaleOperation>, string?) Issue(Sale sale, SaleOperation operation) =>
        (sale with { State = SaleState.Settling, Operations = [.. sale.Operations, operation] }, [operation], null);

    /// <summary>Operation ids are "{kind}{n}" (n = position in the sale's list), so each has its own stable key.</summary>
    internal static SaleOperation NewOperation(Sale sale, OperationKind kind, long amount, DateTimeOffset now)
    {
        var id = $"{kind.ToString().ToLowerInvariant()}{sale.Operations.Count + 1}";
        return new SaleOperation(id, kind, amount, IdempotencyKey(sale.Reference, id), OperationStatus.Pending, now, now);
    }

    /// <summary>Our own sums after Vipps did <paramref name="operation"/> (Vipps keeps state AUTHORIZED; the aggregate moves).</summary>
    private static Sale Complete(Sale sale, SaleOperation operation, bool confirmedByVipps)
    {
        var done = operation with { Status = OperationStatus.Succeeded, ConfirmedByVipps = operation.ConfirmedByVipps || confirmedByVipps };
        var operations = sale.Operations.Select(existing => existing.Id == operation.Id ? done : existing).ToList();
        return operation.Kind switch
        {
            OperationKind.Capture => sale with { Operations = operations, CapturedAmount = sale.CapturedAmount + operation.Amount },
            OperationKind.Release => sale with { Operations = operations, CancelledAmount = sale.AuthorizedAmount - sale.CapturedAmount },
            OperationKind.Terminate => sale with { Operations = operations, CancelledAmount = sale.Amount },
            OperationKind.Refund => sale with { Operations = operations, RefundedAmount = sale.RefundedAmount + operation.Amount },
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation.Kind, "Unknown operation kind."),
        };
    }

    private static Sale Replace(Sale sale, SaleOperation operation) =>
        sale with { Operations = sale.Operations.Select(existing => existing.Id == operation.Id ? operation : existing).ToList() };

    private static SaleDecision OnCommandSucceeded(Sale sale, CommandSucceeded succeeded, DateTimeOffset now)
    {
        if (sale.FindOperation(succeeded.OperationId) is not { Status: OperationStatus.Pending } operation)
        {
            // Already recorded (by this result before, or by the Vipps event that overtook it): exactly once.
            return Ignore(sale);
        }

        var completed = Complete(sale, operation, confirmedByVipps: false);
        var (after, commands, finalTransition) = Settle(completed, now);
        var detail = $"{operation.Kind} {operation.Amount} done";
        if (succeeded.Aggregate is { } aggregate
            && (aggregate.Captured != after.CapturedAmount || aggregate.Cancelled != after.CancelledAmount || aggregate.Refunded != after.RefundedAmount))
        {
            detail += $"; Vipps aggregate captured {aggregate.Captured}, cancelled {aggregate.Cancelled}, refunded {aggregate.Refunded} differs from ours";
        }

        return Record(sale, after, now, "command_succeeded", $"{operation.Id}: {detail}", commands, finalTransition);
    }

    private static SaleDecision OnCommandFailed(Sale sale, CommandFailed failed, DateTimeOffset now)
    {
        if (sale.FindOperation(failed.OperationId) is not { Status: OperationStatus.Pending } operation)
        {
            return Ignore(sale);
        }

        var failedOperation = operation with { Status = OperationStatus.Failed, FailureCode = failed.Code };
        var withFailure = Replace(sale, failedOperation);
        if (operation.Kind == OperationKind.Terminate)
        {
            // 6060: the customer approved as we cancelled; the money is reserved and must be released.
            // Any other refusal: nothing of ours is reserved, so the sale ends cancelled (a later AUTHORIZED is still released).
            var authorized = failed.VippsErrorCode == CannotCancelAuthorized
                ? withFailure with
                {
                    AuthorizedAt = withFailure.AuthorizedAt ?? now,
                    AuthorizedAmount = withFailure.AuthorizedAmount > 0 ? withFailure.AuthorizedAmount : withFailure.Amount,
                }
                : withFailure;
            var (after, commands, finalTransition) = Settle(authorized, now);
            return Record(sale, after, now, "command_failed", $"{operation.Id} refused: {failed.Code}{Trace(failed.TraceId)}", commands, finalTransition);
        }

        if (operation.Kind == OperationKind.Capture)
        {
            // Vipps said no for good (and its payment shows no such capture): release the rest, so no money stays
            // reserved; the sale then ends Failed with the code (delivered, not charged) for an operator.
            var (after, commands, finalTransition) = Settle(withFailure with { FailureCode = failed.Code }, now);
            return Record(sale, after, now, "command_failed",
                $"{operation.Id} refused permanently: {failed.Code}{Trace(failed.TraceId)}; releasing what is still reserved", commands, finalTransition);
        }

        var failedSale = withFailure with { State = SaleState.Failed, FailureCode = failed.Code };
        return Record(sale, failedSale, now, "command_failed", $"{operation.Id} refused permanently: {failed.Code}{Trace(failed.TraceId)}", null,
            sale.State == SaleState.Failed ? null : "failed");
    }

    /// <summary>The poison queue is a failure like any other (the processor asked Vipps first): same rules.</summary>
    private static SaleDecision OnCommandPoisoned(Sale sale, CommandPoisoned poisoned, DateTimeOffset now) =>
        OnCommandFailed(sale, new CommandFailed(poisoned.OperationId, "command_poisoned", null), now);

    private static SaleDecision OnCommandReenqueued(Sale sale, CommandReenqueued reenqueued, DateTimeOffset now)
    {
        if (sale.FindOperation(reenqueued.OperationId) is not { Status: OperationStatus.Pending } operation)
        {
            return Ignore(sale);
        }

        // A new chain: its message carries the next attempt number, so a message of the old chain that still turns up is dropped.
        var again = operation with { EnqueuedAt = now, Attempt = operation.Attempt + 1, NextAttemptAt = null };
        return Record(sale, Replace(sale, again), now, "command_reenqueued",
            $"{operation.Id} pending since {operation.IssuedAt:O}, due {operation.DueAt:O}: sent again (attempt {again.Attempt})", [again]);
    }

    private static SaleDecision OnRefundRequested(Sale sale, RefundRequested refund, DateTimeOffset now)
    {
        if (refund.Amount <= 0)
        {
            return Refuse(sale, RefusalKind.Invalid, "invalid_amount", "The refund amount must be positive (minor units).", "amount");
        }

        if (sale.State != SaleState.Captured)
        {
            return Refuse(sale, RefusalKind.Conflict, "refund_not_allowed", $"The sale is {sale.State}: only a captured sale can be refunded.");
        }

        var refundable = sale.CapturedAmount - sale.RefundedAmount;
        if (refund.Amount > refundable)
        {
            return Refuse(sale, RefusalKind.Invalid, "refund_exceeds_captured", $"At most {refundable} can be refunded.", "amount");
        }

        var operation = NewOperation(sale, OperationKind.Refund, refund.Amount, now);
        var after = sale with { State = SaleState.Settling, Operations = [.. sale.Operations, operation] };
        return Record(sale, after, now, "refund_requested", $"{operation.Id}: refund {refund.Amount}", [operation]);
    }

    private static SaleDecision OnDivergenceObserved(Sale sale, DivergenceObserved divergence, DateTimeOffset now) =>
        divergence.Detail == sale.LastDivergence
            ? Ignore(sale)
            : Record(sale, sale with { LastDivergence = divergence.Detail }, now, "divergence", divergence.Detail);
}
