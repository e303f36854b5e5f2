using Vending.Domain.Events;

namespace Vending.Domain.Sales;

/// <summary>
/// The sale's state machine: a PURE, total function (sale, event, now) → decision. No I/O, no clock, no randomness;
/// storage applies the decision atomically and issues its commands. Every (state, event) pair has an answer, which
/// the tests enumerate. Rules that shape it:
/// capture only what was delivered (or everything at authorization for <c>CaptureMode.OnAuthorization</c>);
/// cancel (release), never refund, what was not delivered; capture before releasing the rest (a release frees the
/// whole uncaptured remainder); one command in flight at a time; money authorized after the sale ended is released.
/// </summary>
public static partial class SaleTransitions
{
    public static SaleDecision Decide(Sale sale, SaleEvent saleEvent, DateTimeOffset now) => saleEvent switch
    {
        VippsEventObserved observed => OnVippsEvent(sale, observed, now),
        PaymentCreateConfirmed confirmed => OnPaymentCreateConfirmed(sale, confirmed, now),
        PaymentCreateFailed failed => OnPaymentCreateFailed(sale, failed, now),
        VendReported reported => OnVendReported(sale, reported.Report, now),
        MachineCancelRequested => OnMachineCancel(sale, now),
        CommandSucceeded succeeded => OnCommandSucceeded(sale, succeeded, now),
        CommandFailed failed => OnCommandFailed(sale, failed, now),
        CommandPoisoned poisoned => OnCommandPoisoned(sale, poisoned, now),
        CommandReenqueued reenqueued => OnCommandReenqueued(sale, reenqueued, now),
        VendDeadlinePassed => OnVendDeadlinePassed(sale, now),
        PaymentExpiryPassed => OnPaymentExpiryPassed(sale, now),
        RefundRequested refund => OnRefundRequested(sale, refund, now),
        DivergenceObserved divergence => OnDivergenceObserved(sale, divergence, now),
        CommandDeferred deferred => OnCommandDeferred(sale, deferred, now),
        CommandNotNow notNow => OnCommandNotNow(sale, notNow, now),
        OperatorRetryRequested => OnOperatorRetry(sale, now),
        OperatorReleaseRequested => OnOperatorRelease(sale, now),
        LateVendReported late => OnLateVendReported(sale, late.Report, now),
        _ => throw new ArgumentOutOfRangeException(nameof(saleEvent), saleEvent.GetType().Name, "Unknown sale event."),
    };

    /// <summary>The first history row of a new sale (the store writes it with the state row).</summary>
    public static SaleHistoryEntry CreatedHistory(Sale sale) => new(
        sale.HistorySequence, sale.CreatedAt, "sale_created",
        $"{sale.Lines.Count} line(s), {sale.Amount} {sale.Currency}, machine sale id {sale.MachineSaleId}", sale.State);

    /// <summary>The stable idempotency key of one of the sale's operations (and of its create: operation "create").</summary>
    public static string IdempotencyKey(string reference, string operationId) => IdempotencyKeys.For(reference, operationId);

    /// <summary>" (Vipps trace id X)" for a history line, or nothing.</summary>
    private static string Trace(string? traceId) => traceId is null ? "" : $" (Vipps trace id {traceId})";

    private static SaleDecision Ignore(Sale sale) => new(DecisionKind.Ignore, sale, null, [], [], null);

    private static SaleDecision Refuse(Sale sale, RefusalKind kind, string code, string message, string? field = null) =>
        new(DecisionKind.Refuse, sale, null, [], [], new SaleRefusal(kind, code, message, field));

    /// <summary>A decision to write: stamps the time and the next history (and outbox) sequences.
    /// <paramref name="outboxTransitions"/> are announced in order (nulls skipped), e.g. "vend_reported" then "captured".</summary>
    private static SaleDecision Record(
        Sale before,
        Sale after,
        DateTimeOffset now,
        string historyType,
        string detail,
        IReadOnlyList<SaleOperation>? commands = null,
        params string?[] outboxTransitions)
    {
        var historySequence = before.HistorySequence + 1;
        var transitions = outboxTransitions.OfType<string>().ToList();
        after = after with
        {
            UpdatedAt = now,
            HistorySequence = historySequence,
            OutboxSequence = before.OutboxSequence + transitions.Count,
        };
        var outbox = transitions.Select((transition, index) => OutboxEventFor(after, before.OutboxSequence + index + 1, transition, now)).ToList();
        return new SaleDecision(
            DecisionKind.Record,
            after,
            new SaleHistoryEntry(historySequence, now, historyType, detail, after.State),
            outbox,
            commands ?? [],
            null)
        {
            StateChanged = before.State != after.State,
        };
    }

    private static OutboxEvent OutboxEventFor(Sale sale, long sequence, string transition, DateTimeOffset now) => new(
        EventId: OutboxEvent.IdFor(sale.Reference, sequence),
        Type: OutboxEventTypes.For(transition),
        Reference: sale.Reference,
        Sequence: sequence,
        Time: now,
        MachineId: sale.MachineId,
        MerchantId: sale.MerchantId,
        State: sale.State.ToString(),
        Currency: sale.Currency,
        Amount: sale.Amount,
        AuthorizedAmount: sale.AuthorizedAmount,
        CapturedAmount: sale.CapturedAmount,
        CancelledAmount: sale.CancelledAmount,
        RefundedAmount: sale.RefundedAmount);

    private static string Transition(SaleState state) => state switch
    {
        SaleState.Captured => "captured",
        SaleState.Cancelled => "cancelled",
        SaleState.Refunded => "refunded",
        SaleState.Aborted => "aborted",
        SaleState.Expired => "expired",
        SaleState.Failed => "failed",
        SaleState.Authorized => "authorized",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "No outbox transition for this state."),
    };
}
