using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Machines;

namespace VendingFunctions.Http.Operator;

/// <summary>Operator routes: guarded by a Functions key (AuthorizationLevel.Function).</summary>
public sealed class MachineFunctions(HttpApi api, IMachineDirectory machines)
{
    /// <summary>The answer carries the machine's api key: the only time it is ever shown.</summary>
    [Function("ProvisionMachine")]
    public Task<IActionResult> Provision(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "operator/machines")] HttpRequest request, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
        {
            var body = await api.ReadJsonAsync(request, RequestReaders.ReadProvisionMachine, ct);
            var credentials = await machines.ProvisionAsync(body, ct);
            return ApiResult.Created(credentials, $"/api/operator/machines/{credentials.Machine.MachineId}");
        });
}
