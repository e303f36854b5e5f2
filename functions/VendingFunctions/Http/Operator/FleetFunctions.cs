using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator.Access;
using Vending.Core.Operator.Fleet;

namespace VendingFunctions.Http.Operator;

/// <summary>The fleet at a glance: today and the last 30 days per machine and merchant, and a range's sales as CSV.</summary>
public sealed class FleetFunctions(OperatorApi api, IFleetQueries fleet, TimeProvider time)
{
    [Function("SalesSummary")]
    public Task<IActionResult> Summary(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/summary")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
        {
            FleetQueryReader.ReadNothing(request.Query);
            return ApiResult.Json(StatusCodes.Status200OK, await fleet.SummaryAsync(ct));
        });

    [Function("ExportSales")]
    public Task<IActionResult> Export(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/exports/sales")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
        {
            var (from, to) = FleetQueryReader.ReadExport(request.Query, time.GetUtcNow());
            var name = $"sales-{from.UtcDateTime:yyyyMMddTHHmm}-{to.UtcDateTime:yyyyMMddTHHmm}.csv";
            return new CsvFile(await fleet.ExportCsvAsync(from, to, ct), name);
        });

    /// <summary>Writes itself, like <see cref="ApiResult"/>: no MVC executors in the worker or the runner.</summary>
    private sealed class CsvFile(string content, string fileName) : IActionResult, IStatusCodeActionResult
    {
        public int? StatusCode => StatusCodes.Status200OK;

        public async Task ExecuteResultAsync(ActionContext context)
        {
            var response = context.HttpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/csv; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes(content), CancellationToken.None);
        }
    }
}
