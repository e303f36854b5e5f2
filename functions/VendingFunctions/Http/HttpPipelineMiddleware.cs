using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Vending.Core.Http;

namespace VendingFunctions.Http;

/// <summary>
/// The worker's step around every HTTP function (registered in Program.cs after the ASP.NET Core integration, so it
/// runs in Azure and under tools/FunctionsHost): <see cref="HttpFunctionPipeline"/> links the function's token to the
/// client's connection, turns whatever the function throws into problem+json and writes the request log line. The
/// answer is left as the invocation result, which the ASP.NET Core integration writes to the response after this step.
/// Queue and timer functions pass straight through.
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

        var result = await HttpFunctionPipeline.RunAsync(http, context.FunctionDefinition.Name, context.CancellationToken, async token =>
        {
            // The worker binds a CancellationToken parameter to the context's token, which the host cancels only when it
            // stops; the function is handed a context whose token also ends when the client hangs up.
            await next(new CancellationScopedFunctionContext(context, token));
            return context.GetInvocationResult().Value;
        }, logger);
        context.GetInvocationResult().Value = result;
    }
}
