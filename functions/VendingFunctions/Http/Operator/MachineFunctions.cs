using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Sales;

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

    [Function("ListMachines")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "operator/machines")] HttpRequest request, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
            ApiResult.Json(StatusCodes.Status200OK, new MachineList(await machines.ListAsync(ct))));

    [Function("GetMachine")]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "operator/machines/{machineId}")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
            ApiResult.Json(StatusCodes.Status200OK, await machines.GetAsync(RequestReaders.ReadMachineId(machineId), ct) ?? throw MachineNotFound()));

    /// <summary>A new api key, shown this once; the previous key keeps working for Vending:SecretRotationGraceSeconds.</summary>
    [Function("RotateMachineKey")]
    public Task<IActionResult> Rotate(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "operator/machines/{machineId}/rotate")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
        {
            var id = RequestReaders.ReadMachineId(machineId);
            await api.ReadJsonAsync(request, RequestReaders.ReadEmpty, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await machines.RotateSecretAsync(id, ct));
        });

    [Function("DisableMachine")]
    public Task<IActionResult> Disable(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "operator/machines/{machineId}/disable")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        SetEnabled(request, machineId, enabled: false, cancellationToken);

    [Function("EnableMachine")]
    public Task<IActionResult> Enable(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "operator/machines/{machineId}/enable")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        SetEnabled(request, machineId, enabled: true, cancellationToken);

    private Task<IActionResult> SetEnabled(HttpRequest request, string machineId, bool enabled, CancellationToken cancellationToken) =>
        api.RunAsync(request, cancellationToken, async ct =>
        {
            var id = RequestReaders.ReadMachineId(machineId);
            await api.ReadJsonAsync(request, RequestReaders.ReadEmpty, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await machines.SetEnabledAsync(id, enabled, ct));
        });

    private static SaleException MachineNotFound() => new(StatusCodes.Status404NotFound, "machine_not_found", "No such machine.");
}

public sealed record MachineList(IReadOnlyList<Machine> Machines);
