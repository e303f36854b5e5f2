namespace Vending.Core.Sales;

/// <summary>What operators (back office, operator HTTP routes) may do with any machine's sales.</summary>
public interface ISaleOperatorService
{
    Task<SaleView?> GetAsync(string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<SaleView>> ListByMachineAsync(string machineId, int max, CancellationToken cancellationToken);

    /// <summary>Refunds part or all of a captured sale. <paramref name="requestId"/> (the operator's own id for this
    /// refund, 1..40 of [A-Za-z0-9-]) makes a retried request a repeat instead of a second refund.
    /// 404 <c>sale_not_found</c>, 409 <c>refund_not_allowed</c>, 400 <c>refund_exceeds_captured</c> / <c>invalid_amount</c>.</summary>
    Task<SaleView> RefundAsync(string reference, long amount, string requestId, CancellationToken cancellationToken);

    /// <summary>Runs the sale's failed operation again under a new idempotency key, by its rule (a capture only while
    /// the money is still reserved). Idempotent by <paramref name="requestId"/>. 404 <c>sale_not_found</c>; 409
    /// <c>nothing_to_retry</c>, <c>operation_in_flight</c>, <c>reservation_released</c>; 400 <c>invalid_request_id</c>.</summary>
    Task<SaleView> RetryAsync(string reference, string requestId, CancellationToken cancellationToken);

    /// <summary>Releases (cancels at Vipps) whatever is still reserved; the sale then captures nothing more.
    /// Idempotent by <paramref name="requestId"/>. 404 <c>sale_not_found</c>; 409 <c>nothing_reserved</c>,
    /// <c>operation_in_flight</c>; 400 <c>invalid_request_id</c>.</summary>
    Task<SaleView> ReleaseAsync(string reference, string requestId, CancellationToken cancellationToken);
}
