using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Sales;

public enum PaymentCreateOutcome
{
    /// <summary>Vipps created the payment; <see cref="PaymentCreateResult.Sale"/> carries its QR source.</summary>
    Created,

    /// <summary>Vipps refused the create for good; the sale is recorded Failed.</summary>
    Refused,

    /// <summary>No answer (transient): nothing recorded; retry with the same key.</summary>
    Unavailable,

    /// <summary>Vipps answered without a QR link: nothing recorded; retry with the same key.</summary>
    NoQr,

    /// <summary>The sale's merchant is not configured here.</summary>
    MerchantNotConfigured,
}

public sealed record PaymentCreateResult(PaymentCreateOutcome Outcome, Sale Sale);

/// <summary>
/// The one Vipps create step, used by the machine's create (and its replays) and by the reconciler's retry of a
/// create whose answer was lost: the same body built from the stored sale, the same idempotency key, the same record
/// of the answer.
/// </summary>
public sealed class PaymentCreation(
    SaleRecorder recorder,
    IVippsEPaymentClient vipps,
    IOptions<VippsOptions> vippsOptions,
    ILogger<PaymentCreation> logger)
{
    public async Task<PaymentCreateResult> CreateAsync(Sale sale, CancellationToken cancellationToken)
    {
        if (!vippsOptions.Value.Merchants.TryGetValue(sale.MerchantId, out var merchant))
        {
            logger.LogError("Sale {Reference}: merchant {MerchantId} is not configured", sale.Reference, sale.MerchantId);
            return new PaymentCreateResult(PaymentCreateOutcome.MerchantNotConfigured, sale);
        }

        CreatePaymentResponse response;
        try
        {
            response = await vipps.CreatePaymentAsync(sale.MerchantId, VippsPaymentRequests.For(sale, merchant),
                VippsPaymentRequests.CreateIdempotencyKey(sale.Reference), cancellationToken);
        }
        catch (VippsApiException exception) when (exception.IsTransient)
        {
            logger.LogWarning(exception, "Sale {Reference}: Vipps unavailable for create; retried with the same key", sale.Reference);
            return new PaymentCreateResult(PaymentCreateOutcome.Unavailable, sale);
        }
        catch (VippsApiException exception)
        {
            var code = SaleService.FailureCode(exception);
            logger.LogError(exception, "Sale {Reference}: Vipps refused the payment ({Code})", sale.Reference, code);
            var failed = await recorder.RecordAsync(sale.Reference, new PaymentCreateFailed(code), null, cancellationToken);
            return new PaymentCreateResult(PaymentCreateOutcome.Refused, failed.Sale ?? sale);
        }

        if (string.IsNullOrEmpty(response.RedirectUrl) || !Uri.TryCreate(response.RedirectUrl, UriKind.Absolute, out _))
        {
            logger.LogError("Sale {Reference}: Vipps created the payment without a QR link", sale.Reference);
            return new PaymentCreateResult(PaymentCreateOutcome.NoQr, sale);
        }

        var source = new SaleQrSource(merchant.TargetUrlQrApproved ? SaleQrSource.TargetUrl : SaleQrSource.Image, response.RedirectUrl);
        var result = await recorder.RecordAsync(sale.Reference, new PaymentCreateConfirmed(source), null, cancellationToken);
        return new PaymentCreateResult(PaymentCreateOutcome.Created, result.Sale ?? sale);
    }
}
