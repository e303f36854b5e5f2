using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Sales;

namespace VendingFunctions.Http.Payments;

/// <summary>
/// The machine API. Each call is authenticated as one machine, which sees only its own sales; the authentication is the
/// first line of each function (not middleware), so the function gets the <see cref="Vending.Core.Machines.Machine"/> as
/// a typed value and nothing of the request is read for an unknown caller. Failures become problem+json around the
/// function (<see cref="HttpFunctionPipeline"/>).
/// </summary>
public sealed class PaymentFunctions(HttpApi api, MachineAuthenticator machines, ISaleService sales)
{
    [Function("CreatePayment")]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "payments")] HttpRequest request, CancellationToken cancellationToken)
    {
        var machine = await machines.AuthenticateAsync(request, cancellationToken);
        var body = await api.ReadJsonAsync(request, json => RequestReaders.ReadCreateSale(json, machine.QrFormat), cancellationToken);
        var result = await sales.CreateAsync(machine, body, cancellationToken);
        return result.Created
            ? ApiResult.Created(result.Sale, $"/api/payments/{result.Sale.Reference}")
            : ApiResult.Json(StatusCodes.Status200OK, result.Sale);
    }

    /// <summary>With <c>?state=…&amp;wait=…</c> a long-poll: the token also ends when the machine hangs up, which stops it.</summary>
    [Function("GetPayment")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "payments/{reference}")] HttpRequest request, string reference, CancellationToken cancellationToken)
    {
        var machine = await machines.AuthenticateAsync(request, cancellationToken);
        var poll = RequestReaders.ReadPollQuery(request.Query);
        var id = RequestReaders.ReadReference(reference);
        var sale = poll.KnownState is { } known
            ? await sales.WaitForChangeAsync(machine.MachineId, id, known, poll.Wait, cancellationToken)
            : await sales.GetAsync(machine.MachineId, id, cancellationToken);
        return ApiResult.Json(StatusCodes.Status200OK, sale ?? throw ApiErrors.NotFound());
    }

    [Function("ReportVend")]
    public async Task<IActionResult> Vend(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "payments/{reference}/vend")] HttpRequest request, string reference, CancellationToken cancellationToken)
    {
        var machine = await machines.AuthenticateAsync(request, cancellationToken);
        var id = RequestReaders.ReadReference(reference);
        var report = await api.ReadJsonAsync(request, RequestReaders.ReadVendReport, cancellationToken);
        return ApiResult.Json(StatusCodes.Status200OK, await sales.ReportVendAsync(machine.MachineId, id, report, cancellationToken));
    }

    [Function("CancelPayment")]
    public async Task<IActionResult> Cancel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "payments/{reference}/cancel")] HttpRequest request, string reference, CancellationToken cancellationToken)
    {
        var machine = await machines.AuthenticateAsync(request, cancellationToken);
        var id = RequestReaders.ReadReference(reference);
        await api.ReadJsonAsync(request, RequestReaders.ReadCancel, cancellationToken);
        return ApiResult.Json(StatusCodes.Status200OK, await sales.CancelAsync(machine.MachineId, id, cancellationToken));
    }
}
