using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FunctionsHost.Worker;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Http;

/// <summary>
/// Serves <c>/{routePrefix}/{route}</c> as the Functions host does with the ASP.NET Core integration: checks the
/// function key, sends an InvocationRequest (route values as trigger metadata, an empty RpcHttp as the trigger) and at
/// the same time forwards the raw request to the worker's own HttpUri with <c>x-ms-invocation-id</c>; the worker pairs
/// the two and answers over HTTP.
/// </summary>
internal sealed class HttpFunctionForwarder(WorkerSupervisor supervisor, WorkerInvoker invoker, string? functionKey, ILogger logger)
{
    public const string KeyHeader = "x-functions-key";
    private const string InvocationHeader = "x-ms-invocation-id";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    // One pooled client to the worker's Kestrel; the function timeout bounds every call.
    private static readonly HttpClient Worker = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = TimeSpan.FromMinutes(5),
    };

    private List<(WorkerFunction Function, TemplateMatcher Matcher, int Parameters)>? _routes;
    private IReadOnlyList<WorkerFunction>? _routesOf;

    public async Task HandleAsync(HttpContext context)
    {
        // Kestrel listens before the first worker has reported its functions: wait for them rather than answer 404.
        if (supervisor.Functions.Count == 0)
        {
            try
            {
                await invoker.WaitReadyAsync(context.RequestAborted);
            }
            catch (WorkerUnavailableException)
            {
                await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "worker_unavailable", "The Functions worker is starting; try again shortly.");
                return;
            }
        }

        var (function, values, methodMismatch) = Match(context.Request.Path, context.Request.Method);
        if (function is null)
        {
            await ProblemAsync(context, methodMismatch ? StatusCodes.Status405MethodNotAllowed : StatusCodes.Status404NotFound,
                methodMismatch ? "method_not_allowed" : "not_found", methodMismatch ? "The method is not allowed on this route." : "No function serves this route.");
            return;
        }

        if (!function.AuthLevel.Equals("Anonymous", StringComparison.OrdinalIgnoreCase) && !HasValidKey(context))
        {
            logger.LogInformation("Function {Function} refused: missing or wrong function key", function.Name);
            await ProblemAsync(context, StatusCodes.Status401Unauthorized, "unauthorized", "A valid function key is required.");
            return;
        }

        // A worker that died before it took the request (its event stream or its Kestrel refuses) ran nothing: the
        // request is sent again to its replacement. Once the worker has the request, its answer (or failure) stands.
        ReadyWorker? dead = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (worker, invocationId, invocation) = await invoker.StartAsync(function, request => Fill(request, function, context, values), dead, context.RequestAborted);
                try
                {
                    await ForwardAsync(context, worker, invocationId);
                }
                catch (HttpRequestException exception) when (!context.Response.HasStarted && IsRefused(exception) && attempt < MaxAttempts)
                {
                    logger.LogWarning("Function {Function}: worker {ProcessId} refused the request ({Reason}); waiting for its replacement", function.Name, worker.ProcessId, exception.Message);
                    dead = worker;
                    continue;
                }

                await LogOutcomeAsync(function, invocation);
                return;
            }
            catch (WorkerUnavailableException exception)
            {
                logger.LogWarning("Function {Function} not run: {Reason}", function.Name, exception.Message);
                await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "worker_unavailable", "The Functions worker is restarting; try again shortly.");
                return;
            }
            catch (HttpRequestException exception) when (!context.Response.HasStarted)
            {
                logger.LogWarning("Function {Function}: the worker did not answer over HTTP ({Reason})", function.Name, exception.Message);
                await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "worker_unavailable", "The Functions worker is restarting; try again shortly.");
                return;
            }
        }
    }

    private const int MaxAttempts = 3;

    private static bool IsRefused(HttpRequestException exception) =>
        exception.HttpRequestError == HttpRequestError.ConnectionError
        || exception.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused };

    private static void Fill(InvocationRequest request, WorkerFunction function, HttpContext context, RouteValueDictionary values)
    {
        request.InputData.Add(new ParameterBinding
        {
            Name = function.TriggerBindingName,
            Data = new TypedData { Http = new RpcHttp { Method = context.Request.Method, Url = context.Request.GetEncodedUrl() } },
        });
        foreach (var (name, value) in values)
        {
            request.TriggerMetadata[name] = new TypedData { String = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "" };
        }
    }

    // The path exactly as the client escaped it: the decoded Path re-escaped would turn %2500 into %00, a NUL the
    // worker's Kestrel refuses with an empty 400, where the function should have said "no such sale".
    private static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (raw is { Length: > 0 } && raw[0] == '/')
        {
            var end = raw.IndexOf('?', StringComparison.Ordinal);
            return end < 0 ? raw : raw[..end];
        }

        return (context.Request.PathBase + context.Request.Path).ToUriComponent();
    }

    private static async Task ForwardAsync(HttpContext context, ReadyWorker worker, string invocationId)
    {
        // The key in ?code= never appears in the URL the worker (and its request logs) see.
        var query = QueryString.Create(context.Request.Query.Where(q => !q.Key.Equals("code", StringComparison.OrdinalIgnoreCase)));
        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(worker.HttpUri, RawPath(context) + query));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, value) in context.Request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!forward.Headers.TryAddWithoutValidation(name, value.ToArray()))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, value.ToArray());
            }
        }

        // Functions that check a key themselves (operator routes are anonymous to the host, Easy Auth style) still get a
        // ?code= key, moved into the header so it stays out of every URL the worker logs.
        if (context.Request.Query["code"] is { Count: > 0 } code && !forward.Headers.Contains("x-functions-key"))
        {
            forward.Headers.TryAddWithoutValidation("x-functions-key", code.ToString());
        }

        forward.Headers.TryAddWithoutValidation(InvocationHeader, invocationId);
        using var answer = await Worker.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)answer.StatusCode;
        foreach (var (name, value) in answer.Headers.Concat(answer.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = value.ToArray();
            }
        }

        await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private async Task LogOutcomeAsync(WorkerFunction function, Task<InvocationResponse> invocation)
    {
        try
        {
            var response = await invocation.WaitAsync(TimeSpan.FromSeconds(10));
            if (response.Result.Status != StatusResult.Types.Status.Success)
            {
                logger.LogError("Function {Function} failed in the worker: {WorkerException}", function.Name, response.Result.Exception?.Message);
            }
        }
        catch (Exception exception) when (exception is WorkerUnavailableException or TimeoutException or OperationCanceledException)
        {
            logger.LogWarning("Function {Function}: no invocation response ({Reason})", function.Name, exception.Message);
        }
    }

    // The request's PathString as it is: a string would be URL-decoded again (and a %00 in it throw).
    private (WorkerFunction?, RouteValueDictionary, bool) Match(PathString path, string method)
    {
        var functions = supervisor.Functions;
        if (!ReferenceEquals(functions, _routesOf))
        {
            // Routes with fewer parameters win, as literal segments do in ASP.NET Core routing.
            _routes = functions.Where(f => f.IsHttp)
                .Select(f => (f, TemplateParser.Parse(f.Route!.Trim('/'))))
                .Select(x => (x.f, new TemplateMatcher(x.Item2, []), x.Item2.Parameters.Count))
                .OrderBy(x => x.Count)
                .ToList();
            _routesOf = functions;
        }

        var methodMismatch = false;
        foreach (var (function, matcher, _) in _routes!)
        {
            var values = new RouteValueDictionary();
            if (!matcher.TryMatch(path, values))
            {
                continue;
            }

            if (function.Methods.Count > 0 && !function.Methods.Contains(method, StringComparer.OrdinalIgnoreCase))
            {
                methodMismatch = true;
                continue;
            }

            return (function, values, false);
        }

        return (null, [], methodMismatch);
    }

    private bool HasValidKey(HttpContext context)
    {
        if (string.IsNullOrEmpty(functionKey))
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
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(functionKey)));
    }

    /// <summary>The same problem shape as the Function App's own answers (type, title, status, code, field, traceId).</summary>
    internal static async Task ProblemAsync(HttpContext context, int status, string code, string title)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            type = $"urn:vending:problem:{code}",
            title,
            status,
            code,
            field = (string?)null,
            traceId = System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier,
        });
    }
}
