using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Vending.Core.Http;

namespace VendingFunctions.Http.Console;

/// <summary>
/// The operator console's static files (functions/VendingFunctions/console/), at <c>/api/console/</c>. Anonymous to the
/// function: the page holds no data; everything it shows comes from the operator routes, which authorize every call.
/// Only the files listed here are served, so no path a client sends can reach anything else on disk.
/// </summary>
public sealed class ConsoleFunction
{
    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        [""] = "text/html; charset=utf-8",
        ["index.html"] = "text/html; charset=utf-8",
        ["console.js"] = "text/javascript; charset=utf-8",
        ["reports.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "console");

    [Function("Console")]
    public IActionResult Serve(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{*file}")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The file from the path itself (not a bound route value): the same in the worker and the local runner.
        var path = request.Path.Value ?? "";
        var at = path.IndexOf("/console", StringComparison.Ordinal);
        var file = at < 0 ? "" : path[(at + "/console".Length)..].TrimStart('/');
        if (file.Length == 0 && !path.EndsWith('/'))
        {
            // Relative links in the page need the trailing slash.
            return new ConsoleFile(StatusCodes.Status302Found, null, null, (request.PathBase + request.Path).Value + "/");
        }

        if (!Files.TryGetValue(file, out var contentType))
        {
            return ApiResult.Problem(request.HttpContext, StatusCodes.Status404NotFound, "file_not_found", "The console has no such file.", null);
        }

        return new ConsoleFile(StatusCodes.Status200OK, Path.Combine(Root, file.Length == 0 ? "index.html" : file), contentType, null);
    }

    /// <summary>Writes itself (no MVC executors needed, in the worker or the runner); names its status for the request log.</summary>
    private sealed class ConsoleFile(int status, string? path, string? contentType, string? location) : IActionResult, IStatusCodeActionResult
    {
        public int? StatusCode => status;

        public async Task ExecuteResultAsync(ActionContext context)
        {
            var response = context.HttpContext.Response;
            response.StatusCode = status;
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Content-Type-Options"] = "nosniff";
            response.Headers["Content-Security-Policy"] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
            if (location is not null)
            {
                response.Headers.Location = location;
            }

            if (path is not null)
            {
                response.ContentType = contentType;
                await response.SendFileAsync(path, context.HttpContext.RequestAborted).ConfigureAwait(false);
            }
        }
    }
}
