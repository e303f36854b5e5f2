using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Operator.Access;

namespace Vending.Core.Http;

/// <summary>What an operator change is about: filled in by the function when it only knows after the fact (provision).</summary>
public sealed class OperatorCall(OperatorPrincipal principal, string subjectKind, string? subject)
{
    public OperatorPrincipal Principal { get; } = principal;

    public string SubjectKind { get; } = subjectKind;

    public string? Subject { get; set; } = subject;
}

/// <summary>
/// The one authorization point of the operator routes (the functions are AuthorizationLevel.Anonymous to the host:
/// docs/operator.md, "Sign-in and roles", says why). A caller is either a person whose principal the platform passed
/// (trusted only when <see cref="OperatorAccessOptions.TrustPlatformPrincipal"/>), with role Vending.Viewer or
/// Vending.Operator, or automation with the operator key. Reads need either role; changes need Vending.Operator, and
/// every change, allowed or refused, goes into the audit trail with who, when, the request id and the outcome.
/// </summary>
public sealed class OperatorApi(HttpApi api, IOptions<OperatorAccessOptions> options, IOperatorAuditLog audit, TimeProvider time, ILogger<OperatorApi> logger)
{
    public const string FunctionKeyHeader = "x-functions-key";
    public const string Forbidden = "forbidden";

    public HttpApi Http => api;

    /// <summary>A read: any signed-in role or the key.</summary>
    public async Task<IActionResult> ReadAsync(HttpRequest request, CancellationToken cancellationToken, Func<OperatorPrincipal, CancellationToken, Task<IActionResult>> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return await handle(Authenticate(request), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A change: Vending.Operator or the key; recorded in the audit trail whatever its outcome.</summary>
    public async Task<IActionResult> ChangeAsync(
        HttpRequest request, string action, string subjectKind, string? subject, CancellationToken cancellationToken,
        Func<OperatorCall, CancellationToken, Task<IActionResult>> handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(handle);
        var principal = Authenticate(request);
        var call = new OperatorCall(principal, subjectKind, subject);
        IActionResult result;
        try
        {
            if (!principal.CanChange)
            {
                throw new ApiProblemException(StatusCodes.Status403Forbidden, Forbidden,
                    $"{principal.Name} has the role {OperatorPrincipal.ViewerRoleName}, which may look but not change; {OperatorPrincipal.OperatorRoleName} is needed.");
            }

            result = await handle(call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Refused or failed: recorded with the status and code the caller is answered (HttpFunctionPipeline makes
            // that answer around the function), then left to it.
            var failure = HttpFunctionPipeline.Classify(exception, cancellationToken.IsCancellationRequested);
            await RecordAsync(request, action, call, failure.Status, failure.Code).ConfigureAwait(false);
            throw;
        }

        var (status, outcome) = Outcome(result);
        await RecordAsync(request, action, call, status, outcome).ConfigureAwait(false);
        return result;
    }

    /// <summary>The caller, or 401 <c>unauthorized</c>.</summary>
    public OperatorPrincipal Authenticate(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = options.Value;
        if (KeyGiven(request) is { } key)
        {
            // A wrong key is refused even when a principal is present too: a caller presents one credential.
            return KeyMatches(key, settings.AutomationKey)
                ? OperatorPrincipal.FunctionKey
                : throw Unauthorized();
        }

        if (settings.TrustPlatformPrincipal
            && ClientPrincipalHeader.Parse(request.Headers[ClientPrincipalHeader.HeaderName]) is { } principal)
        {
            return principal;
        }

        throw Unauthorized();
    }

    private async Task RecordAsync(HttpRequest request, string action, OperatorCall call, int status, string outcome)
    {
        var entry = new AuditEntry(time.GetUtcNow(), action, call.SubjectKind, call.Subject,
            call.Principal.Kind == OperatorCallerKind.FunctionKey ? "function_key" : "user",
            call.Principal.Name, call.Principal.ObjectId, RequestId(request), status, outcome);
        try
        {
            // Not the request's token: the action has happened, its record must not be lost to a client hanging up.
            await audit.RecordAsync(entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The change itself stands (it cannot be undone here); the log keeps what the table missed.
            logger.LogError(exception, "Audit write failed: {Action} on {SubjectKind} {Subject} by {Actor} -> {Status} {Outcome} (request {RequestId})",
                entry.Action, entry.SubjectKind, entry.Subject, entry.ActorName, entry.Status, entry.Outcome, entry.RequestId);
        }
    }

    /// <summary>The id the answer carries as <c>traceId</c> too, so an audit row and an error report can be matched.</summary>
    public static string RequestId(HttpRequest request) =>
        Activity.Current?.TraceId.ToHexString() ?? request.HttpContext.TraceIdentifier;

    private static (int Status, string Outcome) Outcome(IActionResult result) => result switch
    {
        ApiResult { Body: ProblemBody problem } api => (api.Status, problem.Code),
        ApiResult api => (api.Status, "succeeded"),
        _ => (0, "unknown"),
    };

    private static string? KeyGiven(HttpRequest request)
    {
        string? key = request.Headers[FunctionKeyHeader];
        if (string.IsNullOrEmpty(key))
        {
            key = request.Query["code"];
        }

        return string.IsNullOrEmpty(key) ? null : key;
    }

    // Hashing first makes the comparison constant-time whatever the lengths.
    // An unresolved Key Vault reference (the secret was never created) is the setting's literal text, which anyone
    // reading the template knows: it is no key at all.
    private static bool KeyMatches(string given, string? configured) =>
        !string.IsNullOrEmpty(configured)
        && !configured.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase)
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));

    private static ApiProblemException Unauthorized() =>
        new(StatusCodes.Status401Unauthorized, ApiErrors.Unauthorized, "Sign in (Vending.Viewer or Vending.Operator), or send the operator key as x-functions-key.");
}

/// <summary>The audit list as the API answers it.</summary>
public sealed record AuditList(IReadOnlyList<AuditEntry> Entries, string? ContinuationToken)
{
    public static AuditList From(AuditPage page) => new(page.Entries, page.ContinuationToken);
}
