using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;
using Vending.Core.Operator.Access;

namespace VendingFunctions.Http.Operator;

/// <summary>Who is calling, and the audit trail: who did what, when, with which outcome. Read by both roles.</summary>
public sealed class AccessFunctions(OperatorApi api, IOperatorAuditLog audit, TimeProvider time)
{
    /// <summary>The caller as the operator routes see it: what the console shows, and which buttons it offers.</summary>
    [Function("WhoAmI")]
    public Task<IActionResult> Me(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/me")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, (principal, _) =>
            Task.FromResult<IActionResult>(ApiResult.Json(StatusCodes.Status200OK, new SignedIn(principal.Kind, principal.Name, principal.ObjectId, principal.Role, principal.CanChange))));

    [Function("ListAudit")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operator/audit")] HttpRequest request, CancellationToken cancellationToken) =>
        api.ReadAsync(request, cancellationToken, async (_, ct) =>
        {
            var asked = AuditQueryReader.Read(request.Query, time.GetUtcNow());
            return asked.Range is { } range
                ? ApiResult.Json(StatusCodes.Status200OK, AuditList.From(await audit.QueryAsync(range, ct)))
                : ApiResult.Json(StatusCodes.Status200OK, new AuditList(await audit.ForSubjectAsync(asked.SubjectKind!, asked.Subject!, 200, ct), null));
        });
}

public sealed record SignedIn(OperatorCallerKind Kind, string Name, string? ObjectId, OperatorRole Role, bool CanChange);
