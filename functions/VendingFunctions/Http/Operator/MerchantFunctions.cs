using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator;

namespace VendingFunctions.Http.Operator;

public sealed class MerchantFunctions(HttpApi api, IMerchantCatalog merchants)
{
    /// <summary>Ids, MSN, brand, currencies, QR approval and whether a webhook secret is held; never a secret.</summary>
    [Function("ListMerchants")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "operator/merchants")] HttpRequest request, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
            ApiResult.Json(StatusCodes.Status200OK, new MerchantList(await merchants.ListAsync(ct))));
}

public sealed record MerchantList(IReadOnlyList<MerchantView> Merchants);
