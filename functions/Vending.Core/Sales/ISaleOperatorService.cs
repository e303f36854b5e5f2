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
}
