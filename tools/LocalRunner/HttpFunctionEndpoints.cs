using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Vending.Core.Http;

namespace LocalRunner;

/// <summary>Serves each HTTP-triggered function at <c>/api/{route}</c>, with the Functions host's key check for
/// non-anonymous authorization levels.</summary>
internal static class HttpFunctionEndpoints
{
    public const string RoutePrefix = "api";
    public const string KeyHeader = "x-functions-key";

    public static void Map(IEndpointRouteBuilder endpoints, FunctionCatalog catalog)
    {
        foreach (var function in catalog.Http)
        {
            var pattern = $"/{RoutePrefix}/{function.Route}";
            var builder = function.Methods.Count == 0
                ? endpoints.Map(pattern, context => HandleAsync(context, function))
                : endpoints.MapMethods(pattern, function.Methods, context => HandleAsync(context, function));
            builder.WithName(function.Name);
        }
    }

    private static async Task HandleAsync(HttpContext context, HttpFunction function)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("LocalRunner.Http");
        if (function.AuthLevel != AuthorizationLevel.Anonymous
            && !HasValidKey(context, context.RequestServices.GetRequiredService<IOptions<LocalRunnerOptions>>().Value.FunctionKey))
        {
            logger.LogInformation("Function {Function} refused: missing or wrong function key", function.Name);
            await Execute(context, ApiResult.Problem(context, StatusCodes.Status401Unauthorized, ApiErrors.Unauthorized, "A valid function key is required.", null));
            return;
        }

        // What the worker's HttpPipelineMiddleware does around a function, which this runner cannot run (issue 15).
        var result = await HttpFunctionPipeline.RunAsync(context, function.Name, CancellationToken.None,
            token => FunctionInvoker.InvokeAsync(context.RequestServices, function.Method, BindArguments(context, function, token)), logger);

        switch (result)
        {
            case IActionResult actionResult:
                await Execute(context, actionResult);
                break;
            case null:
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            default:
                await Execute(context, ApiResult.Json(StatusCodes.Status200OK, result));
                break;
        }
    }

    private static Task Execute(HttpContext context, IActionResult result) =>
        result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));

    private static object?[] BindArguments(HttpContext context, HttpFunction function, CancellationToken cancellationToken) =>
        function.Method.GetParameters().Select(parameter =>
        {
            if (parameter.ParameterType == typeof(HttpRequest))
            {
                return context.Request;
            }

            if (parameter.ParameterType == typeof(CancellationToken))
            {
                return cancellationToken;
            }

            var value = context.GetRouteValue(parameter.Name!)?.ToString();
            return value is null || parameter.ParameterType == typeof(string)
                ? value
                : ConvertRouteValue(value, parameter.ParameterType);
        }).ToArray();

    private static object? ConvertRouteValue(string value, Type type) => type switch
    {
        _ when type == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : 0,
        _ when type == typeof(long) => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : 0L,
        _ when type == typeof(Guid) => Guid.TryParse(value, out var g) ? g : Guid.Empty,
        _ when type == typeof(bool) => bool.TryParse(value, out var b) && b,
        _ => null,
    };

    private static bool HasValidKey(HttpContext context, string? configuredKey)
    {
        if (string.IsNullOrEmpty(configuredKey))
        {
            return false;
        }

        string? given = context.Request.Headers[KeyHeader];
        if (string.IsNullOrEmpty(given))
        {
            given = context.Request.Query["code"];
        }

        // Hashing first makes the comparison constant-time whatever the lengths.
        return !string.IsNullOrEmpty(given)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(configuredKey)));
    }
}
