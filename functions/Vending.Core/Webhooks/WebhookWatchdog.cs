using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Observability;

namespace Vending.Core.Webhooks;

/// <summary><c>WebhookWatchdog:Enabled</c>: on in Azure (infra/main.bicep sets it), off by default so local stacks and
/// tests that shape registrations by hand are not corrected behind their back.</summary>
public sealed class WebhookWatchdogOptions
{
    public const string SectionName = "WebhookWatchdog";

    public bool Enabled { get; set; }
}

/// <summary>What one watchdog run found: per merchant, kept as it was or registered again (with what was deleted).</summary>
public sealed record WebhookWatchdogReport(bool Ran, IReadOnlyList<WebhookEnsureResult> Repaired, int Kept);

/// <summary>
/// Vipps deletes a webhook registration that stayed unresponsive for two weeks, and then simply stops calling: sales
/// still complete by polling, slower, and nothing else would notice. The watchdog runs the same
/// <see cref="IWebhookRegistrar.EnsureAsync"/> as <c>POST /api/operator/webhooks/ensure</c> (one registration per
/// merchant for our URL and every event, whose secret we hold) and warns with <see cref="ReregisteredEvent"/> for
/// every merchant it had to repair; the alert "webhook registration repaired" fires on that warning.
/// </summary>
public sealed class WebhookWatchdog(IWebhookRegistrar registrar, IOptions<WebhookWatchdogOptions> options, ILogger<WebhookWatchdog> logger)
{
    /// <summary>The event id of the warning the alerts look for (docs/operations.md).</summary>
    public static readonly EventId ReregisteredEvent = new(7301, "WebhookReregistered");

    public async Task<WebhookWatchdogReport> RunAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogDebug("Webhook watchdog is off (WebhookWatchdog:Enabled)");
            return new WebhookWatchdogReport(false, [], 0);
        }

        var report = await registrar.EnsureAsync(cancellationToken);
        var repaired = report.Merchants.Where(m => m.Action == "registered" || m.Deleted.Count > 0).ToList();
        foreach (var merchant in repaired)
        {
            WebhookMetrics.ReregisteredBy(merchant.MerchantId);
            logger.LogWarning(ReregisteredEvent,
                "Webhook watchdog: merchant {MerchantId} had no usable registration at {Url}; now {RegistrationId} ({Action}), deleted {DeletedCount}. Webhooks sent meanwhile were lost; the reconciler polled those sales",
                merchant.MerchantId, merchant.Url, merchant.RegistrationId, merchant.Action, merchant.Deleted.Count);
        }

        var kept = report.Merchants.Count - repaired.Count;
        logger.LogInformation("Webhook watchdog: {Kept} registrations in place, {Repaired} repaired", kept, repaired.Count);
        return new WebhookWatchdogReport(true, repaired, kept);
    }
}
