using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator.Access;
using Vending.Core.Sales;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace VendingFunctions.Http.Operator;

/// <summary>What Vipps MobilePay says about a sale's payment (its aggregate), shown beside ours in the console.</summary>
public sealed class VippsViewFunctions(OperatorApi api, ISaleOperatorService sales, IVippsEPaymentClient vipps)
{
    [Function("GetSaleAtVipps")]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/sales/{reference}/vipps")] HttpRequest request, string reference, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadReference(reference);
            var sale = await sales.GetAsync(id, ct) ?? throw ApiErrors.NotFound();
            try
            {
                return ApiResult.Json(StatusCodes.Status200OK, await vipps.GetPaymentAsync(sale.MerchantId, sale.Reference, ct));
            }
            catch (VippsApiException exception) when (exception.StatusCode == HttpStatusCode.NotFound)
            {
                // Created here but never accepted by Vipps (e.g. the create call failed): nothing to show there.
                throw new ApiProblemException(StatusCodes.Status404NotFound, "payment_not_at_vipps", "Vipps MobilePay has no payment with this reference.");
            }
        });
}
