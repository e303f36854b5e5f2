using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vending.Core.Http;

namespace VendingFunctions.Tests;

/// <summary>Builds requests for calling function methods directly and runs their results into a real response.</summary>
internal static class TestHttp
{
    public const string MachineKey = "machine-1.s3cret-value";

    public static HttpRequest Request(string method, string path, string? body = null, string? apiKey = MachineKey, string contentType = "application/json", bool declareLength = true) =>
        Request(method, path, body is null ? null : Encoding.UTF8.GetBytes(body), apiKey, contentType, declareLength);

    /// <summary>A request with no operator credential at all (operator paths otherwise carry <see cref="Fakes.OperatorKey"/>).</summary>
    public static HttpRequest Anonymous(string method, string path, string? body = null)
    {
        var request = Request(method, path, body, apiKey: null);
        request.Headers.Remove("x-functions-key");
        return request;
    }

    /// <summary>A request with a body given as bytes: for bodies no string can hold (invalid UTF-8).</summary>
    public static HttpRequest Request(string method, string path, byte[]? body, string? apiKey = MachineKey, string contentType = "application/json", bool declareLength = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        var query = path.IndexOf('?', StringComparison.Ordinal);
        context.Request.Path = query < 0 ? path : path[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
        if (apiKey is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + apiKey;
        }

        // Operator routes authorize every call (OperatorApi): the function tests call them as automation would.
        if (path.StartsWith("/api/operator", StringComparison.Ordinal))
        {
            context.Request.Headers["x-functions-key"] = Fakes.OperatorKey;
        }

        if (body is not null)
        {
            var bytes = body;
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentType = contentType;
            context.Request.ContentLength = declareLength ? bytes.Length : null;
        }

        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    /// <summary>
    /// Calls a function the way the worker's middleware does (<see cref="HttpFunctionPipeline"/>: the token also ends
    /// when the client hangs up, a failure becomes problem+json) and writes the answer into a real response.
    /// </summary>
    public static async Task<TestResponse> Run(HttpRequest request, Func<CancellationToken, Task<IActionResult>> function, ILogger? logger = null)
    {
        var result = await HttpFunctionPipeline.RunAsync(request.HttpContext, "Test", CancellationToken.None,
            async token => await function(token), logger ?? NullLogger.Instance);
        return await Execute(request, Assert.IsAssignableFrom<IActionResult>(result));
    }

    public static async Task<TestResponse> Execute(HttpRequest request, IActionResult result)
    {
        var context = request.HttpContext;
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        context.Response.Body.Position = 0;
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return new TestResponse(context.Response.StatusCode, context.Response.ContentType, context.Response.Headers, text);
    }
}

internal sealed record TestResponse(int Status, string? ContentType, IHeaderDictionary Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Code => Json.TryGetProperty("code", out var code) ? code.GetString() : null;

    public string? Field => Json.TryGetProperty("field", out var value) ? value.GetString() : null;

    /// <summary>Asserts a problem+json answer with the parts every problem must have.</summary>
    public TestResponse AssertProblem(int status, string code, string? field = null)
    {
        Assert.Equal(status, Status);
        Assert.StartsWith("application/problem+json", ContentType);
        Assert.Equal(code, Code);
        Assert.Equal(field, Field);
        Assert.Equal(status, Json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(Json.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(Json.GetProperty("type").GetString()));
        Assert.True(Json.TryGetProperty("traceId", out _));
        return this;
    }
}
