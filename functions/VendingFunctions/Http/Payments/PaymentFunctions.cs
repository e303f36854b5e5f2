using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Sales;

namespace VendingFunctions.Http.Payments;

/// <summary>The machine API. Each call is authenticated as one machine, which sees only its own sales.</summary>
public sealed class PaymentFunctions(HttpApi api, ISaleService sales)
{
    [Function("CreatePayment")]
    public Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "payments")] HttpRequest request, CancellationToken cancellationToken) =>
        api.RunForMachineAsync(request, cancellationToken, async (machine, ct) =>
        {
            var body = await api.ReadJsonAsync(request, json => RequestReaders.ReadCreateSale(json, machine.QrFormat), ct);
            var result = await sales.CreateAsync(machine, body, ct);
            return result.Created
                ? ApiResult.Created(result.Sale, $"/api/payments/{result.Sale.Reference}")
                : ApiResult.Json(StatusCodes.Status200OK, result.Sale);
        });

    [Function("GetPayment")]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "payments/{reference}")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.RunForMachineAsync(request, cancellationToken, async (machine, ct) =>
        {
            var poll = RequestReaders.ReadPollQuery(request.Query);
            var id = RequestReaders.ReadReference(reference);
            var sale = poll.KnownState is { } known
                ? await sales.WaitForChangeAsync(machine.MachineId, id, known, poll.Wait, ct)
                : await sales.GetAsync(machine.MachineId, id, ct);
            return ApiResult.Json(StatusCodes.Status200OK, sale ?? throw ApiErrors.NotFound());
        });

    [Function("ReportVend")]
    public Task<IActionResult> Vend(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "payments/{reference}/vend")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.RunForMachineAsync(request, cancellationToken, async (machine, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            var report = await api.ReadJsonAsync(request, RequestReaders.ReadVendReport, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await sales.ReportVendAsync(machine.MachineId, id, report, ct));
        });

    [Function("CancelPayment")]
    public Task<IActionResult> Cancel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "payments/{reference}/cancel")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.RunForMachineAsync(request, cancellationToken, async (machine, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            await api.ReadJsonAsync(request, RequestReaders.ReadCancel, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await sales.CancelAsync(machine.MachineId, id, ct));
        });
}
