using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator;
using Vending.Core.Operator.Access;
using Vending.Core.Operator.Fleet;
using Vending.Core.Sales;

namespace VendingFunctions.Http.Operator;

/// <summary>Any machine's sales, for operators: listing, lookup with history, refunds, reconciliation.</summary>
public sealed class SaleOperatorFunctions(OperatorApi api, ISaleOperatorService sales, IOperatorSaleQueries queries, IOperatorAuditLog audit, IFleetQueries fleet, TimeProvider time)
{
    [Function("ListSales")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/sales")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
            // One machine's listing (its partition of Sales) when a machine and no state is named; else all machines (SalesByDay).
            ApiResult.Json(StatusCodes.Status200OK, FleetQueryReader.WantsFleetListing(request.Query)
                ? await fleet.ListAsync(FleetQueryReader.ReadSales(request.Query, time.GetUtcNow()), ct)
                : await queries.ListAsync(RequestReaders.ReadSalesQuery(request.Query), ct)));

    [Function("GetSale")]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/sales/{reference}")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            var sale = await sales.GetAsync(id, ct) ?? throw ApiErrors.NotFound();
            return ApiResult.Json(StatusCodes.Status200OK, new SaleWithHistory(sale, await sales.GetHistoryAsync(id, ct),
                await audit.ForSubjectAsync(AuditSubjects.Sale, id, 100, ct)));
        });

    /// <summary>Full or partial; through the command queue, so the answer is usually Settling. A retry with the same
    /// requestId is the same refund.</summary>
    [Function("RefundSale")]
    public Task<IActionResult> Refund(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/sales/{reference}/refunds")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, OperatorActions.Refund, AuditSubjects.Sale, reference, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            var refund = await api.Http.ReadJsonAsync(request, RequestReaders.ReadRefund, ct);
            return ApiResult.Json(StatusCodes.Status202Accepted, await sales.RefundAsync(id, refund.Amount, refund.RequestId, ct));
        });

    /// <summary>Runs the failed operation again (new idempotency key, same rule); 202, usually Settling.</summary>
    [Function("RetrySale")]
    public Task<IActionResult> Retry(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/sales/{reference}/retry")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, OperatorActions.Retry, AuditSubjects.Sale, reference, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            var requestId = await api.Http.ReadJsonAsync(request, RequestReaders.ReadOperatorAction, ct);
            return ApiResult.Json(StatusCodes.Status202Accepted, await sales.RetryAsync(id, requestId, ct));
        });

    /// <summary>Releases whatever Vipps still holds for the sale; 202, usually Settling.</summary>
    [Function("ReleaseSale")]
    public Task<IActionResult> Release(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/sales/{reference}/release")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, OperatorActions.Release, AuditSubjects.Sale, reference, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            var requestId = await api.Http.ReadJsonAsync(request, RequestReaders.ReadOperatorAction, ct);
            return ApiResult.Json(StatusCodes.Status202Accepted, await sales.ReleaseAsync(id, requestId, ct));
        });

    [Function("Reconciliation")]
    public Task<IActionResult> Reconciliation(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/reconciliation")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
            ApiResult.Json(StatusCodes.Status200OK, await queries.ReconcileAsync(RequestReaders.ReadReconciliationQuery(request.Query), ct)));
}

/// <summary>A sale, its own history and the operator actions taken on it (who did what).</summary>
public sealed record SaleWithHistory(SaleView Sale, IReadOnlyList<SaleHistoryEntry> History, IReadOnlyList<AuditEntry> Audit);
