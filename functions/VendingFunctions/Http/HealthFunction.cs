using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Vending.Core.Http;
using Vending.Core.Observability;

namespace VendingFunctions.Http;

public sealed class HealthFunction(IConfiguration configuration)
{
    /// <summary>Liveness: it touches no storage and no Vipps, so a slow dependency never fails the probe. It does name
    /// settings whose Key Vault reference did not resolve (status <c>degraded</c>): the app runs, but what those
    /// settings carry (a webhook secret, say) is missing until the reference resolves (docs/deploy.md).</summary>
    [Function("Health")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        var unresolved = UnresolvedSettings.Find(configuration);
        return unresolved.Count == 0
            ? ApiResult.Json(StatusCodes.Status200OK, new { status = "ok" })
            : ApiResult.Json(StatusCodes.Status200OK, new { status = "degraded", unresolvedKeyVaultReferences = unresolved });
    }
}
