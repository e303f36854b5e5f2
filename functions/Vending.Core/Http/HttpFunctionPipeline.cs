using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Extensions.Logging;
using Vending.Core.Sales;
using Vending.Vipps;

namespace Vending.Core.Http;

/// <summary>
/// What happens around every HTTP function, written once: the function's token also ends when the client hangs up
/// (a long-poll must stop then), whatever the function throws becomes problem+json, and one request log line is written.
/// The worker runs it as middleware (<c>VendingFunctions.Http.HttpPipelineMiddleware</c>, in Azure and under
/// tools/FunctionsHost); the reflection runner, which runs no worker middleware, calls it around each function until
/// it is deleted. Function bodies therefore carry no try/catch and no status codes of refusals.
/// </summary>
public static class HttpFunctionPipeline
{
    /// <summary>Seconds a caller is asked to wait when Vipps MobilePay is not answering.</summary>
    public const string RetryAfterSeconds = "5";

    /// <summary>Not an HTTP status anyone receives: the client has gone. Kept out of the 5xx statistics (nginx's 499).</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>The one table from a domain refusal's kind to its HTTP status.</summary>
    public static int StatusOf(RefusalKind kind) => kind switch
    {
        RefusalKind.Invalid => StatusCodes.Status400BadRequest,
        RefusalKind.NotPermitted => StatusCodes.Status403Forbidden,
        RefusalKind.NotFound => StatusCodes.Status404NotFound,
        RefusalKind.Conflict => StatusCodes.Status409Conflict,
        RefusalKind.NotConfigured => StatusCodes.Status500InternalServerError,
        RefusalKind.ProviderFailed => StatusCodes.Status502BadGateway,
        RefusalKind.ProviderUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "A refusal kind without an HTTP status."),
    };

    /// <summary>
    /// Runs one HTTP function. <paramref name="invoke"/> gets a token that ends when <paramref name="functionToken"/>
    /// does (the host stops) or the client hangs up; its result is returned as is, a failure as problem+json.
    /// </summary>
    public static async Task<object?> RunAsync(
        HttpContext http, string functionName, CancellationToken functionToken, Func<CancellationToken, Task<object?>> invoke, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(invoke);
        ArgumentNullException.ThrowIfNull(logger);
        var started = Stopwatch.GetTimestamp();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(functionToken, http.RequestAborted);
        object? result;
        try
        {
            result = await invoke(linked.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            result = ToProblem(exception, http, linked.IsCancellationRequested, functionName, logger);
        }

        // The path without the query string (which may carry ?code=), and no header: neither belongs in a log.
        logger.LogInformation("HTTP {Method} {Path} ran function {Function}: {Status} in {ElapsedMilliseconds:0.0} ms",
            http.Request.Method, http.Request.Path.Value, functionName, StatusOf(result), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    /// <summary>What a failure of a function answers, logged when it is ours (500) or Vipps' (503); it never reveals the
    /// exception. <paramref name="cancelled"/>: the function's token had ended (client gone or host stopping).</summary>
    public static ApiResult ToProblem(Exception exception, HttpContext http, bool cancelled, string functionName, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(logger);
        var failure = Classify(exception, cancelled);
        var result = ApiResult.Problem(http, failure.Status, failure.Code, failure.Title, failure.Field);
        switch (failure.Code)
        {
            case ApiErrors.InternalError:
                // The request id is the problem's traceId: what a caller reports is what an operator searches for.
                logger.LogError(exception, "Unhandled error in function {Function} ({Method} {Path}), request {RequestId}",
                    functionName, http.Request.Method, http.Request.Path.Value, ((ProblemBody)result.Body!).TraceId);
                break;
            case ApiErrors.PaymentProviderUnavailable:
                logger.LogWarning(exception, "Vipps unavailable during function {Function} ({Method} {Path})", functionName, http.Request.Method, http.Request.Path.Value);
                result.WithHeader("Retry-After", RetryAfterSeconds);
                break;
            case ApiErrors.Unauthorized when failure.Status == StatusCodes.Status401Unauthorized:
                result.WithHeader("WWW-Authenticate", MachineAuthenticator.Challenge);
                break;
        }

        return result;
    }

    /// <summary>
    /// The status, code, title and field a failure answers; pure, so the operator audit records the same outcome the
    /// caller gets. Refusals keep their code and field; cancellation is 499; a Vipps outage 503; anything else 500
    /// <c>internal_error</c> with a title that says nothing about the cause.
    /// </summary>
    public static HttpFailure Classify(Exception exception, bool cancelled) => exception switch
    {
        ApiProblemException problem => new(problem.Status, problem.Code, problem.Message, problem.Field),
        SaleException refusal => new(StatusOf(refusal.Kind), refusal.Code, refusal.Message, refusal.Field),
        OperationCanceledException when cancelled => new(ClientClosedRequest, ApiErrors.RequestCancelled, "The request was cancelled.", null),
        VippsApiException { IsTransient: true } => new(StatusCodes.Status503ServiceUnavailable, ApiErrors.PaymentProviderUnavailable,
            "The payment provider is not answering; try again shortly.", null),
        _ => new(StatusCodes.Status500InternalServerError, ApiErrors.InternalError, "An unexpected error occurred.", null),
    };

    private static int? StatusOf(object? result) => result switch
    {
        ApiResult api => api.Status,
        IStatusCodeActionResult withStatus => withStatus.StatusCode,
        _ => null,
    };
}

/// <summary>What a failed HTTP function answers: the problem's status, stable code, title and the field at fault.</summary>
public sealed record HttpFailure(int Status, string Code, string Title, string? Field);
