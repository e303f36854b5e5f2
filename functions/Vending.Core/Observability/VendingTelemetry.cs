using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Vending.Core.Observability;

/// <summary>
/// The product's own ActivitySource and Meter, both named <c>Vending</c> (docs/operations.md lists every span and
/// instrument). Tag names are shared constants so spans, metrics, alerts and the workbook agree. Nothing secret is
/// ever a tag: references, machine ids and merchant ids only (never keys, tokens or webhook secrets).
/// </summary>
public static class VendingTelemetry
{
    public const string Name = "Vending";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static class Tags
    {
        public const string SaleReference = "vending.sale.reference";
        public const string MachineId = "vending.machine.id";
        public const string MerchantId = "vending.merchant.id";
        public const string Outcome = "vending.sale.outcome";
        public const string CommandKind = "vending.command.kind";
        public const string CommandAttempt = "vending.command.attempt";
        public const string Result = "vending.webhook.result";
        public const string Reason = "vending.webhook.reason";
        public const string MessagingSystem = "messaging.system";
        public const string MessagingDestination = "messaging.destination.name";
        public const string MessagingOperation = "messaging.operation.type";
    }
}
