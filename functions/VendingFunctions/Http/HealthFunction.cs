using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;

namespace VendingFunctions.Http;

public sealed class HealthFunction
{
    /// <summary>Liveness only: it touches no storage and no Vipps, so a slow dependency never fails the probe.</summary>
    [Function("Health")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
        => ApiResult.Json(StatusCodes.Status200OK, new { status = "ok" });
}
