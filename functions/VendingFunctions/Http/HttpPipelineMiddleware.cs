using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Vending.Core.Http;

namespace VendingFunctions.Http;

/// <summary>
/// The worker's own step around every HTTP function (registered in Program.cs, so it runs in Azure and under
/// tools/FunctionsHost, not under the reflection runner): one request log line (method, path without the query, which
/// may carry <c>?code=</c>, function, status, duration), and an exception that escapes a function or its binding
/// becomes the same logged, revealing-nothing problem+json 500 that <see cref="HttpApi"/> gives. HttpApi keeps its own
/// handling until every runner executes the worker pipeline (issue 15).
/// </summary>
public sealed class HttpPipelineMiddleware(ILogger<HttpPipelineMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (Exception exception) when (!http.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(exception, "Unhandled error in function {Function} ({Method} {Path})", context.FunctionDefinition.Name, http.Request.Method, http.Request.Path.Value);
            context.GetInvocationResult().Value = ApiResult.Problem(http, StatusCodes.Status500InternalServerError, ApiErrors.InternalError, "An unexpected error occurred.", null);
        }

        var status = context.GetInvocationResult().Value switch
        {
            ApiResult result => result.Status,
            IStatusCodeActionResult result => result.StatusCode,
            _ => null,
        };
        logger.LogInformation("HTTP {Method} {Path} ran function {Function}: {Status} in {ElapsedMilliseconds:0.0} ms",
            http.Request.Method, http.Request.Path.Value, context.FunctionDefinition.Name, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
