using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator;
using Vending.Core.Operator.Access;

namespace VendingFunctions.Http.Operator;

public sealed class MerchantFunctions(OperatorApi api, IMerchantCatalog merchants)
{
    /// <summary>Ids, MSN, brand, currencies, QR approval and whether a webhook secret is held; never a secret.</summary>
    [Function("ListMerchants")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/merchants")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
            ApiResult.Json(StatusCodes.Status200OK, new MerchantList(await merchants.ListAsync(ct))));
}

public sealed record MerchantList(IReadOnlyList<MerchantView> Merchants);
