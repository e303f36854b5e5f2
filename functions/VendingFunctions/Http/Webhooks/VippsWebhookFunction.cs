using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Sales;

namespace VendingFunctions.Http.Webhooks;

/// <summary>Vipps MobilePay payment events. Authenticated by HMAC (not by a Functions key, which Vipps cannot send).</summary>
public sealed class VippsWebhookFunction(WebhookReceiver webhooks, ISaleService sales)
{
    [Function("VippsWebhook")]
    public async Task<IActionResult> Receive(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/vipps")] HttpRequest request, CancellationToken cancellationToken)
    {
        var webhook = await webhooks.ReceiveAsync(request, cancellationToken);
        // A stale-dated webhook was answered by polling Vipps (WebhookReceiver); its body is not recorded.
        var outcome = webhook.PolledInstead ?? await sales.RecordWebhookAsync(webhook.MerchantId, webhook.Event, cancellationToken);
        return ApiResult.Json(StatusCodes.Status200OK, new WebhookAcknowledgement(outcome));
    }
}

/// <summary>Vipps only looks at the status; the outcome helps whoever replays a webhook by hand.</summary>
public sealed record WebhookAcknowledgement(WebhookOutcome Outcome);
