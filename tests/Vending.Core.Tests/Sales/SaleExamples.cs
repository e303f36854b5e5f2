using Vending.Core.Machines;
using Vending.Core.Sales;

namespace Vending.Core.Tests.Sales;

/// <summary>A sale in each state, as it really gets there, for the state-machine tests.</summary>
internal static class SaleExamples
{
    public static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static Sale New(CaptureMode captureMode = CaptureMode.OnDelivery) => new()
    {
        Reference = "vm-01-sale-1",
        MachineId = "vm-01",
        MachineSaleId = "sale-1",
        MerchantId = "vippsno",
        Currency = "NOK",
        CaptureMode = captureMode,
        State = SaleState.Created,
        Amount = 3000,
        Lines = [new SaleLine("cola", "Cola", 2, 1000, 2500), new SaleLine("chips", "Chips", 1, 1000, 1500)],
        QrRequest = new QrRequest("svg", null),
        CreatedAt = Start,
        UpdatedAt = Start,
        ExpiresAt = Start.AddMinutes(10),
        HistorySequence = 1,
    };

    public static Sale Created() => Apply(New(), new PaymentCreateConfirmed(new SaleQrSource(SaleQrSource.Image, "https://qr.example/x")));

    public static Sale Authorized() => Apply(Created(), VippsEvent(VippsEventKind.Authorized));

    /// <summary>Authorized under <paramref name="mode"/> (capture at authorization: Settling, capture1 in flight).</summary>
    public static Sale Authorized(CaptureMode mode) => Apply(
        Apply(New(mode), new PaymentCreateConfirmed(new SaleQrSource(SaleQrSource.Image, "https://qr.example/x"))),
        VippsEvent(VippsEventKind.Authorized));

    /// <summary>Delivered, capture1 in flight.</summary>
    public static Sale Settling() => Apply(Authorized(), new VendReported(new VendReport(VendOutcome.Delivered, null)));

    public static Sale Captured() => Apply(Settling(), new CommandSucceeded("capture1", null));

    public static Sale Cancelled() => Apply(
        Apply(Authorized(), new VendReported(new VendReport(VendOutcome.Failed, null))),
        new CommandSucceeded("release1", null));

    public static Sale Aborted() => Apply(Created(), VippsEvent(VippsEventKind.Aborted));

    public static Sale Expired() => Apply(Created(), VippsEvent(VippsEventKind.Expired));

    public static Sale Failed() => Apply(New(), new PaymentCreateFailed("vipps_6010"));

    public static Sale Refunded() => Apply(Apply(Captured(), new RefundRequested(3000)), new CommandSucceeded("refund2", null));

    public static Sale InState(SaleState state) => state switch
    {
        SaleState.Created => Created(),
        SaleState.Authorized => Authorized(),
        SaleState.Settling => Settling(),
        SaleState.Captured => Captured(),
        SaleState.Cancelled => Cancelled(),
        SaleState.Aborted => Aborted(),
        SaleState.Expired => Expired(),
        SaleState.Failed => Failed(),
        SaleState.Refunded => Refunded(),
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static VippsEventObserved VippsEvent(VippsEventKind kind, long amount = 3000, string? idempotencyKey = null) =>
        new(kind, amount, $"psp-{kind}", idempotencyKey, Start.AddMinutes(1));

    public static DateTimeOffset Now => Start.AddMinutes(2);

    public static Sale Apply(Sale sale, SaleEvent saleEvent, DateTimeOffset? now = null)
    {
        var decision = SaleTransitions.Decide(sale, saleEvent, now ?? Now);
        if (decision.Kind != DecisionKind.Record)
        {
            throw new InvalidOperationException($"{saleEvent} on {sale.State} was {decision.Kind} {decision.Refusal?.Code}, expected a record");
        }

        return decision.Sale;
    }
}
