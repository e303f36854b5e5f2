namespace Vending.Domain.Sales;

public static partial class SaleTransitions
{
    private static SaleDecision OnPaymentCreateConfirmed(Sale sale, PaymentCreateConfirmed confirmed, DateTimeOffset now)
    {
        if (sale.PaymentCreated || sale.State == SaleState.Failed)
        {
            return Ignore(sale);
        }

        // Vipps' payment lives its lifetime from when Vipps accepted it, not from our first try: a create retried
        // later (lost answer, outage) must not be expired early.
        var after = sale with { PaymentCreated = true, Qr = confirmed.Qr, ExpiresAt = now + (sale.ExpiresAt - sale.CreatedAt) };

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

    /// <summary>Only the reconciler sends this, after Vipps still said CREATED past expiry and grace: terminate it at
    /// Vipps (cancelTransactionOnly), so the customer can no longer approve; the sale then ends Expired. An approval
    /// racing it (6060, or a late AUTHORIZED) is released.</summary>
    private static SaleDecision OnPaymentExpiryPassed(Sale sale, DateTimeOffset now)
    {
        if (sale.State != SaleState.Created || !sale.PaymentCreated || now < sale.ExpiresAt)
        {
            return Ignore(sale);
        }

        var terminate = NewOperation(sale, OperationKind.Terminate, sale.Amount, now);
        var after = sale with
        {
            State = SaleState.Settling,
            ExpiryInferred = true,
            ReleaseOnly = true,
            Operations = [.. sale.Operations, terminate],
        };
        return Record(sale, after, now, "expiry_passed",
            $"no approval by {sale.ExpiresAt:O} and Vipps still CREATED: {terminate.Id} terminates it at Vipps", [terminate]);
    }
}
