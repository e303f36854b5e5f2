namespace Vending.Core.Sales;

public static partial class SaleTransitions
{
    private static SaleDecision OnPaymentCreateConfirmed(Sale sale, PaymentCreateConfirmed confirmed, DateTimeOffset now)
    {
        if (sale.PaymentCreated || sale.State == SaleState.Failed)
        {
            return Ignore(sale);
        }

        var after = sale with { PaymentCreated = true, Qr = confirmed.Qr };

        // A machine cancel may have raced the create; the sale is then Settling and announces no "created".
        return Record(sale, after, now, "payment_created", $"Vipps payment created, QR {confirmed.Qr.Kind}", null,
            sale.State == SaleState.Created ? "created" : null);
    }

    private static SaleDecision OnPaymentCreateFailed(Sale sale, PaymentCreateFailed failed, DateTimeOffset now)
    {
        if (sale.PaymentCreated || sale.State != SaleState.Created)
        {
            return Ignore(sale);
        }

        var after = sale with { State = SaleState.Failed, FailureCode = failed.Code };
        return Record(sale, after, now, "payment_create_failed", $"Vipps refused the payment: {failed.Code}", null, "failed");
    }

    /// <summary>Only the reconciler sends this, after Vipps still said CREATED past expiry and grace.</summary>
    private static SaleDecision OnPaymentExpiryPassed(Sale sale, DateTimeOffset now)
    {
        if (sale.State != SaleState.Created || !sale.PaymentCreated || now < sale.ExpiresAt)
        {
            return Ignore(sale);
        }

        var after = sale with { State = SaleState.Expired };
        return Record(sale, after, now, "expiry_passed", $"no approval by {sale.ExpiresAt:O}: treated as expired", null, "expired");
    }
}
