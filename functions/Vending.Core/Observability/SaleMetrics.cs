using System.Diagnostics.Metrics;

namespace Vending.Core.Observability;

/// <summary>
/// The sale instruments of the <c>Vending</c> meter. Dimensions are low-cardinality on purpose (merchant, outcome,
/// command kind): a machine id or a reference belongs on a span, not on a metric series.
/// </summary>
public static class SaleMetrics
{
    public const string SalesCreated = "vending.sales.created";
    public const string SalesFinal = "vending.sales.final";
    public const string VendReportDelay = "vending.sale.vend_report.delay";
    public const string CaptureDelay = "vending.sale.capture.delay";
    public const string CommandsRetried = "vending.commands.retried";
    public const string CommandsPoisoned = "vending.commands.poisoned";

    private static readonly Counter<long> Created = VendingTelemetry.Meter.CreateCounter<long>(
        SalesCreated, "{sale}", "Sales created by machines.");

    private static readonly Counter<long> Final = VendingTelemetry.Meter.CreateCounter<long>(
        SalesFinal, "{sale}", "Sales that reached a final state, by outcome (Captured, Cancelled, Aborted, Expired, Failed, Refunded).");

    private static readonly Histogram<double> VendReport = VendingTelemetry.Meter.CreateHistogram<double>(
        VendReportDelay, "s", "From the authorization to the machine's vend report.");

    private static readonly Histogram<double> Capture = VendingTelemetry.Meter.CreateHistogram<double>(
        CaptureDelay, "s", "From the vend report (the capture's issue) to Vipps accepting the capture.");

    private static readonly Counter<long> Retried = VendingTelemetry.Meter.CreateCounter<long>(
        CommandsRetried, "{command}", "Queue commands re-enqueued after a transient Vipps failure.");

    private static readonly Counter<long> Poisoned = VendingTelemetry.Meter.CreateCounter<long>(
        CommandsPoisoned, "{command}", "Queue commands that kept failing and landed in sale-commands-poison.");

    /// <summary>A machine's sale was stored: counts it and describes the current span.</summary>
    public static void SaleCreated(Sale sale)
    {
        SaleTracing.Describe(sale);
        Created.Add(1, new KeyValuePair<string, object?>(VendingTelemetry.Tags.MerchantId, sale.MerchantId));
    }

    /// <summary>An event was recorded on a sale (called once per recorded transition, never for a duplicate).</summary>
    public static void Recorded(Sale sale, SaleEvent saleEvent, SaleDecision decision)
    {
        SaleTracing.Describe(sale);
        var merchant = new KeyValuePair<string, object?>(VendingTelemetry.Tags.MerchantId, sale.MerchantId);
        if (decision.StateChanged && sale.IsFinal)
        {
            Final.Add(1, merchant, new KeyValuePair<string, object?>(VendingTelemetry.Tags.Outcome, sale.State.ToString()));
        }

        if (saleEvent is VendReported && sale.AuthorizedAt is { } authorizedAt)
        {
            VendReport.Record(Seconds(sale.UpdatedAt - authorizedAt), merchant);
        }

        // Whichever confirms the capture first (our command's answer or Vipps' captured event) moves the sale to Captured.
        if (decision.StateChanged && sale.State == SaleState.Captured
            && sale.Operations.FirstOrDefault(operation => operation.Kind == OperationKind.Capture) is { } capture)
        {
            Capture.Record(Seconds(sale.UpdatedAt - capture.IssuedAt), merchant);
        }
    }

    public static void CommandRetried(string kind) =>
        Retried.Add(1, new KeyValuePair<string, object?>(VendingTelemetry.Tags.CommandKind, kind));

    public static void CommandPoisoned(string kind) =>
        Poisoned.Add(1, new KeyValuePair<string, object?>(VendingTelemetry.Tags.CommandKind, kind));

    private static double Seconds(TimeSpan span) => Math.Max(0, span.TotalSeconds);
}
