using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Operator.Access;
using Vending.Core.Sales;

namespace VendingFunctions.Http.Operator;

/// <summary>Operator routes: anonymous to the host, authorized and audited by <see cref="OperatorApi"/> (docs/operator.md).</summary>
public sealed class MachineFunctions(OperatorApi api, IMachineDirectory machines)
{
    /// <summary>The answer carries the machine's api key: the only time it is ever shown.</summary>
    [Function("ProvisionMachine")]
    public Task<IActionResult> Provision(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/machines")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, OperatorActions.Provision, AuditSubjects.Machine, null, cancellationToken, async (call, ct) =>
        {
            var body = await api.Http.ReadJsonAsync(request, RequestReaders.ReadProvisionMachine, ct);
            call.Subject = body.MachineId;
            var credentials = await machines.ProvisionAsync(body, ct);
            return ApiResult.Created(credentials, $"/api/operator/machines/{credentials.Machine.MachineId}");
        });

    [Function("ListMachines")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/machines")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
            ApiResult.Json(StatusCodes.Status200OK, new MachineList(await machines.ListAsync(ct))));

    [Function("GetMachine")]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/machines/{machineId}")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
            ApiResult.Json(StatusCodes.Status200OK, await machines.GetAsync(RequestReaders.ReadMachineId(machineId), ct) ?? throw MachineNotFound()));

    /// <summary>A new api key, shown this once; the previous key keeps working for Vending:SecretRotationGraceSeconds.</summary>
    [Function("RotateMachineKey")]
    public Task<IActionResult> Rotate(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/machines/{machineId}/rotate")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, OperatorActions.Rotate, AuditSubjects.Machine, machineId, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadMachineId(machineId);
            await api.Http.ReadJsonAsync(request, RequestReaders.ReadEmpty, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await machines.RotateSecretAsync(id, ct));
        });

    [Function("DisableMachine")]
    public Task<IActionResult> Disable(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/machines/{machineId}/disable")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        SetEnabled(request, machineId, enabled: false, cancellationToken);

    [Function("EnableMachine")]
    public Task<IActionResult> Enable(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operator/machines/{machineId}/enable")] HttpRequest request, string machineId, CancellationToken cancellationToken) =>
        SetEnabled(request, machineId, enabled: true, cancellationToken);

    private Task<IActionResult> SetEnabled(HttpRequest request, string machineId, bool enabled, CancellationToken cancellationToken) =>
        api.ChangeAsync(request, enabled ? OperatorActions.Enable : OperatorActions.Disable, AuditSubjects.Machine, machineId, cancellationToken, async (_, ct) =>
        {
            var id = RequestReaders.ReadMachineId(machineId);
            await api.Http.ReadJsonAsync(request, RequestReaders.ReadEmpty, ct);
            return ApiResult.Json(StatusCodes.Status200OK, await machines.SetEnabledAsync(id, enabled, ct));
        });

    private static SaleException MachineNotFound() => new(RefusalKind.NotFound, "machine_not_found", "No such machine.");
}

public sealed record MachineList(IReadOnlyList<Machine> Machines);
