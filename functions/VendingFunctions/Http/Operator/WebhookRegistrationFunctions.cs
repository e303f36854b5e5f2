using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator.Access;
using Vending.Core.Webhooks;

namespace VendingFunctions.Http.Operator;

public sealed class WebhookRegistrationFunctions(OperatorApi api, IWebhookRegistrar registrar)
{
    /// <summary>Exactly one registration per merchant for {Vending:PublicBaseUrl}/api/webhooks/vipps; idempotent.</summary>
    [Function("EnsureWebhooks")]
    public Task<IActionResult> Ensure(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/webhooks/ensure")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, OperatorActions.WebhookEnsure, AuditSubjects.Webhooks, null, cancellationToken, async (_, ct) =>
        {
            await api.Http.ReadJsonAsync(request, RequestReaders.ReadEmpty, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await registrar.EnsureAsync(ct));
        });
}
