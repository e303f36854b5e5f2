using System.Diagnostics.Metrics;

namespace Vending.Core.Observability;

/// <summary>Webhooks from Vipps: verified (by merchant) or refused (by reason), and the watchdog's re-registrations.</summary>
public static class WebhookMetrics
{
    public const string Received = "vending.webhooks.received";
    public const string Reregistered = "vending.webhooks.reregistered";

    private static readonly Counter<long> ReceivedCounter = VendingTelemetry.Meter.CreateCounter<long>(
        Received, "{webhook}", "Webhook calls, verified or refused (reason: the signature check's result, or merchant_mismatch).");

    private static readonly Counter<long> ReregisteredCounter = VendingTelemetry.Meter.CreateCounter<long>(
        Reregistered, "{registration}", "Webhook registrations the watchdog found missing and registered again.");

    public static void Verified(string merchantId) => ReceivedCounter.Add(1,
        new KeyValuePair<string, object?>(VendingTelemetry.Tags.Result, "verified"),
        new KeyValuePair<string, object?>(VendingTelemetry.Tags.MerchantId, merchantId));

    /// <summary><paramref name="reason"/>: a fixed word (the signature result, merchant_mismatch), never request content.</summary>
    public static void Refused(string reason) => ReceivedCounter.Add(1,
        new KeyValuePair<string, object?>(VendingTelemetry.Tags.Result, "refused"),
        new KeyValuePair<string, object?>(VendingTelemetry.Tags.Reason, reason));

    public static void ReregisteredBy(string merchantId) => ReregisteredCounter.Add(1,
        new KeyValuePair<string, object?>(VendingTelemetry.Tags.MerchantId, merchantId));
}
