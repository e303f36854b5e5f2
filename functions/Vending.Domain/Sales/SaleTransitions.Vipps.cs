namespace Vending.Domain.Sales;

public static partial class SaleTransitions
{
    private static SaleDecision OnVippsEvent(Sale sale, VippsEventObserved observed, DateTimeOffset now) => observed.Kind switch
    {
        // Our own create already tells us the payment exists.
        VippsEventKind.Created => Ignore(sale),
        VippsEventKind.Authorized => OnAuthorized(sale, observed, now),
        VippsEventKind.Aborted => OnEndedBeforeAuthorization(sale, observed, now, SaleState.Aborted),
        VippsEventKind.Expired => OnEndedBeforeAuthorization(sale, observed, now, SaleState.Expired),
        VippsEventKind.Terminated => OnOperationEvent(sale, observed, now, OperationKind.Terminate),
        VippsEventKind.Cancelled => OnOperationEvent(sale, observed, now, OperationKind.Release),
        VippsEventKind.Captured => OnOperationEvent(sale, observed, now, OperationKind.Capture),
        VippsEventKind.Refunded => OnOperationEvent(sale, observed, now, OperationKind.Refund),
        _ => Ignore(sale),
    };

    private static SaleDecision OnAuthorized(Sale sale, VippsEventObserved observed, DateTimeOffset now)
    {
        if (sale.AuthorizedAt is not null)
        {
            return Ignore(sale);
        }

        // Our clock, when we learned of it: the vend-report deadline runs from when the machine could first know, and
        // must not shrink because the AUTHORIZED came late (a lost webhook found by polling) or Vipps' clock differs.
        var authorized = sale with { AuthorizedAt = now, AuthorizedAmount = observed.Amount, PaymentCreated = true };
        var amountNote = observed.Amount == sale.Amount ? "" : $" (sale amount {sale.Amount})";
        if (sale.State == SaleState.Created && sale.CaptureMode == Machines.CaptureMode.OnAuthorization)
        {
            var (captured, commands, _) = Settle(authorized, now);
            return Record(sale, captured, now, "vipps_authorized", $"authorized {observed.Amount}{amountNote}: capture at authorization", commands, "authorized");
        }

        if (sale.State == SaleState.Created)
        {
            return Record(sale, authorized with { State = SaleState.Authorized }, now, "vipps_authorized",
                $"authorized {observed.Amount}{amountNote}", null, "authorized");
        }

        // The machine cancelled, or the sale had ended (expired, aborted, failed): never keep this money, release it.
        var releasing = authorized with { ReleaseOnly = true };
        var (after, releaseCommands, finalTransition) = Settle(releasing, now);
        return Record(sale, after, now, "vipps_authorized",
            $"authorized {observed.Amount} after the sale was {sale.State}: releasing it", releaseCommands, "authorized", finalTransition);
    }

    private static SaleDecision OnEndedBeforeAuthorization(Sale sale, VippsEventObserved observed, DateTimeOffset now, SaleState ended)
    {
        var history = $"vipps_{ended.ToString().ToLowerInvariant()}";
        if (sale.State == SaleState.Created)
        {
            return Record(sale, sale with { State = ended }, now, history, $"payment {ended.ToString().ToLowerInvariant()} at Vipps", null, Transition(ended));
        }

        if (sale.State == SaleState.Settling && sale.AuthorizedAt is null
            && sale.FindPending(OperationKind.Terminate) is { } terminate)
        {
            // The machine's cancel raced the customer's abort or the expiry: nothing is left to terminate.
            var ended2 = Complete(sale, terminate, confirmedByVipps: true) with { CancelledAmount = 0 };
            var (after, commands, finalTransition) = Settle(ended2, now);
            return Record(sale, after, now, history, $"payment {ended.ToString().ToLowerInvariant()} at Vipps while terminating", commands, finalTransition);
        }

        // Late or duplicate (e.g. our inferred expiry first): worth a history line, changes nothing.
        return sale.State == ended
            ? Record(sale, sale, now, history, "confirmed by Vipps")
            : Record(sale, sale, now, history, $"Vipps reports {observed.Kind} while the sale is {sale.State}: no effect");
    }

    /// <summary>TERMINATED / CANCELLED / CAPTURED / REFUNDED: the Vipps side of an operation. Ours (matched by
    /// idempotency key, else by kind) completes or confirms it; one we never asked for is recorded as it is.</summary>
    private static SaleDecision OnOperationEvent(Sale sale, VippsEventObserved observed, DateTimeOffset now, OperationKind kind)
    {
        var history = $"vipps_{observed.Kind.ToString().ToLowerInvariant()}";
        var operation = MatchOperation(sale, kind, observed.IdempotencyKey);
        if (operation is { Status: OperationStatus.Pending })
        {
            // The webhook overtook our command's own result: record it now; the late result is then ignored.
            var completed = Complete(sale, operation, confirmedByVipps: true);
            var (after, commands, finalTransition) = Settle(completed, now);
            return Record(sale, after, now, history, $"{operation.Id} {kind} {observed.Amount} done (reported by Vipps)", commands, finalTransition);
        }

        if (operation is { Status: OperationStatus.Succeeded } && observed.IdempotencyKey == operation.IdempotencyKey)
        {
            // Our own key on an operation Vipps already answered 2xx: it tells nothing new (and costs no write).
            return Ignore(sale);
        }

        if (operation is { Status: OperationStatus.Succeeded })
        {
            return Record(sale, Replace(sale, operation with { ConfirmedByVipps = true }), now, history, $"{operation.Id} confirmed by Vipps");
        }

        if (operation is { Status: OperationStatus.Failed } && observed.IdempotencyKey == operation.IdempotencyKey)
        {
            // Our own key: Vipps did it, whatever we concluded (an unclear answer recorded as a refusal). The
            // operation counts as done; a release sent after it freed only what this left.
            var reopened = sale with
            {
                FailureCode = operation.FailureCode == sale.FailureCode ? null : sale.FailureCode,
                State = sale.State == SaleState.Failed ? SaleState.Settling : sale.State,
            };
            var completed = Complete(reopened, operation with { Status = OperationStatus.Pending }, confirmedByVipps: true);
            if (operation.Kind == OperationKind.Capture && completed.CancelledAmount > completed.AuthorizedAmount - completed.CapturedAmount)
            {
                completed = completed with { CancelledAmount = Math.Max(0, completed.AuthorizedAmount - completed.CapturedAmount) };
            }

            var (after, commands, finalTransition) = Settle(completed, now);
            return Record(sale, after, now, history,
                $"{operation.Id} {kind} {observed.Amount} done at Vipps (we had recorded {operation.FailureCode}): completed", commands,
                finalTransition ?? (sale.State == SaleState.Failed && after.State.IsFinal() && after.State != SaleState.Failed ? Transition(after.State) : null));
        }

        if (operation is { Status: OperationStatus.Failed })
        {
            return Record(sale, sale, now, history, $"Vipps reports {observed.Kind} {observed.Amount} for {operation.Id}, which we recorded as refused ({operation.FailureCode})");
        }

        return OnOperationWeDidNotIssue(sale, observed, now, history);
    }

    private static SaleDecision OnOperationWeDidNotIssue(Sale sale, VippsEventObserved observed, DateTimeOffset now, string history)
    {
        var unexpected = $"Vipps reports {observed.Kind} {observed.Amount} that we did not issue";
        switch (observed.Kind)
        {
            case VippsEventKind.Terminated when sale.State == SaleState.Created:
                return Record(sale, sale with { State = SaleState.Cancelled, CancelledAmount = sale.Amount, PaymentCreated = true }, now, history,
                    "payment terminated outside this system", null, "cancelled");

            case VippsEventKind.Cancelled when sale.State is SaleState.Created or SaleState.Authorized:
            {
                // Released outside (e.g. the portal), or the AUTHORIZED before it never reached us: nothing is reserved now.
                var authorized = sale.AuthorizedAmount > 0 ? sale.AuthorizedAmount : sale.Amount;
                var after = sale with
                {
                    State = SaleState.Cancelled,
                    AuthorizedAt = sale.AuthorizedAt ?? observed.Timestamp,
                    AuthorizedAmount = authorized,
                    CancelledAmount = authorized - sale.CapturedAmount,
                    PaymentCreated = true,
                };
                return Record(sale, after, now, history, "reservation released outside this system", null, "cancelled");
            }

            case VippsEventKind.Captured:
                return Record(sale, sale with { CapturedAmount = sale.CapturedAmount + observed.Amount }, now, history, unexpected);

            case VippsEventKind.Refunded:
            {
                var refunded = sale with { RefundedAmount = sale.RefundedAmount + observed.Amount };
                var fullyRefunded = sale.State == SaleState.Captured && refunded.RefundedAmount >= refunded.CapturedAmount;
                return fullyRefunded
                    ? Record(sale, refunded with { State = SaleState.Refunded }, now, history, unexpected, null, "refunded")
                    : Record(sale, refunded, now, history, unexpected);
            }

            default:
                return Record(sale, sale, now, history, $"{unexpected}; no effect while the sale is {sale.State}");
        }
    }

    private static SaleOperation? MatchOperation(Sale sale, OperationKind kind, string? idempotencyKey) =>
        (idempotencyKey is null ? null : sale.Operations.FirstOrDefault(operation => operation.IdempotencyKey == idempotencyKey))
        ?? sale.FindPending(kind)
        ?? sale.Operations.FirstOrDefault(operation => operation.Kind == kind && operation.Status == OperationStatus.Succeeded && !operation.ConfirmedByVipps);
}
