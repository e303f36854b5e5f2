using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Webhooks;

namespace VendingFunctions.Http.Operator;

public sealed class WebhookRegistrationFunctions(HttpApi api, IWebhookRegistrar registrar)
{
    /// <summary>Exactly one registration per merchant for {Vending:PublicBaseUrl}/api/webhooks/vipps; idempotent.</summary>
    [Function("EnsureWebhooks")]
    public Task<IActionResult> Ensure(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "operator/webhooks/ensure")] HttpRequest request, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
        {
            await api.ReadJsonAsync(request, RequestReaders.ReadEmpty, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await registrar.EnsureAsync(ct));
        });
}
