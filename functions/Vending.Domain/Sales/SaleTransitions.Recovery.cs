namespace Vending.Domain.Sales;

/// <summary>Retries, "not now" answers, operator actions and late vend reports: what keeps money out of limbo.</summary>
public static partial class SaleTransitions
{
    /// <summary>A "not now" code may come back many times; past this many re-issues of one kind the last one counts as a refusal.</summary>
    public const int MaxNotNowReissues = 10;

    private static SaleDecision OnCommandDeferred(Sale sale, CommandDeferred deferred, DateTimeOffset now)
    {
        if (sale.FindOperation(deferred.OperationId) is not { Status: OperationStatus.Pending } operation
            || operation.Attempt != deferred.Attempt - 1)
        {
            // Done meanwhile, or another chain (the reconciler's) owns the operation now: this chain stops.
            return Ignore(sale);
        }

        var later = operation with { Attempt = deferred.Attempt, NextAttemptAt = deferred.NextAttemptAt, LastError = deferred.Reason };
        return Record(sale, Replace(sale, later), now, "command_retry",
            $"{operation.Id} not done ({deferred.Reason}{Trace(deferred.TraceId)}); attempt {deferred.Attempt} at {deferred.NextAttemptAt:O}, same key");
    }

    private static SaleDecision OnCommandNotNow(Sale sale, CommandNotNow notNow, DateTimeOffset now)
    {
        if (sale.FindOperation(notNow.OperationId) is not { Status: OperationStatus.Pending } operation)
        {
            return Ignore(sale);
        }

        var reissued = sale.Operations.Count(existing => existing.Kind == operation.Kind && existing.Status == OperationStatus.Failed
            && existing.FailureCode is { } code && code.StartsWith(NotNowPrefix, StringComparison.Ordinal));
        if (reissued >= MaxNotNowReissues)
        {
            return OnCommandFailed(sale, new CommandFailed(operation.Id, notNow.Code, null, notNow.TraceId), now);
        }

        // The old key's outcome stays on its operation (and in history); the new operation has its own key.
        var closed = Replace(sale, operation with { Status = OperationStatus.Failed, FailureCode = NotNowPrefix + notNow.Code });
        var again = NewOperation(closed, operation.Kind, operation.Amount, now) with { NextAttemptAt = notNow.NextAttemptAt };
        var after = closed with { State = SaleState.Settling, Operations = [.. closed.Operations, again] };
        return Record(sale, after, now, "command_not_now",
            $"{operation.Id} answered {notNow.Code}{Trace(notNow.TraceId)} (not now; a 4xx stays 4xx for its key): issued again as {again.Id} at {notNow.NextAttemptAt:O}", [again]);
    }

    /// <summary>Marks an operation closed by a "not now" answer and re-issued, so it never counts as a refusal.</summary>
    public const string NotNowPrefix = "not_now:";

    /// <summary>Runs the sale's failed operation again under a new key, by the same rule as before: a capture only
    /// while the money is still reserved, a release while something is reserved, a refund while captured money is left.</summary>
    private static SaleDecision OnOperatorRetry(Sale sale, DateTimeOffset now)
    {
        if (sale.HasPendingOperations)
        {
            return Refuse(sale, RefusalKind.Conflict, "operation_in_flight", "An operation is in flight for this sale; wait for its outcome.");
        }

        var failed = sale.Operations.LastOrDefault(operation => operation.Status == OperationStatus.Failed
            && operation.FailureCode?.StartsWith(NotNowPrefix, StringComparison.Ordinal) != true);
        if (sale.State != SaleState.Failed || failed is null)
        {
            return Refuse(sale, RefusalKind.Conflict, "nothing_to_retry", $"The sale is {sale.State}: no failed operation to run again.");
        }

        var reserved = sale.AuthorizedAmount - sale.CapturedAmount - sale.CancelledAmount;
        var amount = failed.Kind switch
        {
            OperationKind.Capture => Math.Min(failed.Amount, reserved),
            OperationKind.Release => reserved,
            OperationKind.Refund => Math.Min(failed.Amount, sale.CapturedAmount - sale.RefundedAmount),
            _ => 0,
        };
        if (amount <= 0)
        {
            return Refuse(sale, RefusalKind.Conflict, failed.Kind == OperationKind.Capture ? "reservation_released" : "nothing_to_retry",
                $"{failed.Id} ({failed.Kind}) cannot run again: nothing left for it at Vipps.");
        }

        var again = NewOperation(sale, failed.Kind, amount, now);
        // Retrying a release after a refused capture frees the money but leaves the capture refused: keep its code,
        // so the sale still ends Failed (delivered, not charged).
        var captureCode = failed.Kind == OperationKind.Capture ? null
            : sale.Operations.LastOrDefault(operation => operation.Kind == OperationKind.Capture && operation.Status == OperationStatus.Failed
                && operation.FailureCode?.StartsWith(NotNowPrefix, StringComparison.Ordinal) != true)?.FailureCode;
        var after = sale with { State = SaleState.Settling, FailureCode = captureCode, Operations = [.. sale.Operations, again] };
        return Record(sale, after, now, "operator_retry", $"operator retry of {failed.Id} ({failed.FailureCode}): {again.Id} {failed.Kind} {amount}", [again]);
    }

    private static SaleDecision OnOperatorRelease(Sale sale, DateTimeOffset now)
    {
        if (sale.HasPendingOperations)
        {
            return Refuse(sale, RefusalKind.Conflict, "operation_in_flight", "An operation is in flight for this sale; wait for its outcome.");
        }

        var reserved = sale.AuthorizedAmount - sale.CapturedAmount - sale.CancelledAmount;
        if (sale.AuthorizedAt is null || reserved <= 0)
        {
            return Refuse(sale, RefusalKind.Conflict, "nothing_reserved", $"The sale is {sale.State}: nothing is reserved at Vipps.");
        }

        var release = NewOperation(sale, OperationKind.Release, reserved, now);
        var after = sale with { State = SaleState.Settling, ReleaseOnly = true, Operations = [.. sale.Operations, release] };
        return Record(sale, after, now, "operator_release", $"operator release: {release.Id} frees {reserved}", [release]);
    }

    private static SaleDecision OnLateVendReported(Sale sale, VendReport report, DateTimeOffset now)
    {
        // Only for a sale that refuses vend reports because its money was released (or is being released).
        if (sale.LateVend is not null || sale.Vend is not null || sale.AuthorizedAt is null || !(sale.IsFinal || sale.ReleaseOnly))
        {
            return Ignore(sale);
        }

        var (delivered, refusal) = DeliveredAmount(sale, report);
        if (refusal is not null)
        {
            return Ignore(sale);
        }

        var charged = Math.Max(0, sale.CapturedAmount - sale.RefundedAmount);
        var notCharged = Math.Max(0, delivered - charged);
        var after = sale with { LateVend = Normalize(report), DeliveredNotChargedAmount = notCharged };
        return Record(sale, after, now, "late_vend_report",
            $"{report.Outcome} reported while the sale was {sale.State}: delivered {delivered}, not charged {notCharged} {sale.Currency}");
    }
}
