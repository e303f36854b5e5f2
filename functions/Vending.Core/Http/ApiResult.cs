using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Vending.Core.Http;

/// <summary>
/// What the HTTP functions return: a status, an optional JSON body and headers. It writes itself, so neither the
/// Functions worker nor the local runner needs the MVC result executors.
/// </summary>
public sealed class ApiResult : IActionResult
{
    public const string JsonContentType = "application/json; charset=utf-8";
    public const string ProblemContentType = "application/problem+json; charset=utf-8";

    private ApiResult(int status, object? body, string contentType)
    {
        Status = status;
        Body = body;
        ContentType = contentType;
    }

    public int Status { get; }

    public object? Body { get; }

    public string ContentType { get; }

    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public static ApiResult Json(int status, object body) => new(status, body, JsonContentType);

    public static ApiResult Created(object body, string location)
    {
        var result = new ApiResult(StatusCodes.Status201Created, body, JsonContentType);
        result.Headers["Location"] = location;
        return result;
    }

    public static ApiResult Problem(HttpContext? context, int status, string code, string title, string? field)
    {
        var traceId = Activity.Current?.TraceId.ToHexString() ?? context?.TraceIdentifier ?? "";
        var problem = new ProblemBody($"urn:vending:problem:{code}", title, status, code, field, traceId);
        return new ApiResult(status, problem, ProblemContentType);
    }

    public ApiResult WithHeader(string name, string value)
    {
        Headers[name] = value;
        return this;
    }

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = Status;

        // Sales change from one call to the next and an api key is shown once: nothing here may be cached.
        response.Headers.CacheControl = "no-store";
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        if (Body is null)
        {
            return;
        }

        // Not bound to RequestAborted: a client that left makes the write fail quietly in the server, whereas a
        // cancelled serializer would surface as an unhandled error of the function.
        response.ContentType = ContentType;
        await JsonSerializer.SerializeAsync(response.Body, Body, Body.GetType(), ApiJson.Options, CancellationToken.None).ConfigureAwait(false);
    }
}

/// <summary>RFC 9457 problem details with our stable <see cref="Code"/> and the <see cref="Field"/> at fault.</summary>
public sealed record ProblemBody(string Type, string Title, int Status, string Code, string? Field, string TraceId);
