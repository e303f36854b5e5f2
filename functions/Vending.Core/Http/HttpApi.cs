using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Vending.Core.Machines;
using Vending.Core.Sales;
using Vending.Vipps;

namespace Vending.Core.Http;

/// <summary>
/// The one place where an HTTP function's failures become problem+json: refusals of the HTTP layer
/// (<see cref="ApiProblemException"/>) and of the domain (<see cref="SaleException"/>) keep their status and code,
/// a Vipps outage becomes 503, anything unexpected a logged 500 that reveals nothing. Function bodies carry no try/catch.
/// </summary>
public sealed class HttpApi(MachineAuthenticator machines, RequestBodyReader bodies, ILogger<HttpApi> logger)
{
    /// <summary>Runs an endpoint that authenticates itself (or needs no caller identity).</summary>
    public async Task<IActionResult> RunAsync(HttpRequest request, CancellationToken cancellationToken, Func<CancellationToken, Task<IActionResult>> handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(handle);

        // The function's token ends with the host; the request's when the client hangs up (a long-poll must stop then).
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, request.HttpContext.RequestAborted);
        try
        {
            return await handle(linked.Token).ConfigureAwait(false);
        }
        catch (ApiProblemException problem)
        {
            return Problem(request, problem.Status, problem.Code, problem.Message, problem.Field);
        }
        catch (SaleException refusal)
        {
            return Problem(request, refusal.Status, refusal.Code, refusal.Message, refusal.Field);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // Nobody is waiting for this answer (client gone or host stopping); 499 keeps it out of the 5xx statistics.
            return Problem(request, 499, ApiErrors.RequestCancelled, "The request was cancelled.", null);
        }
        catch (VippsApiException vipps) when (vipps.IsTransient)
        {
            logger.LogWarning(vipps, "Vipps unavailable during {Method} {Path}", request.Method, request.Path.Value);
            return Problem(request, StatusCodes.Status503ServiceUnavailable, ApiErrors.PaymentProviderUnavailable, "The payment provider is not answering; try again shortly.", null)
                .WithHeader("Retry-After", "5");
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Unhandled error in {Method} {Path}", request.Method, request.Path.Value);
            return Problem(request, StatusCodes.Status500InternalServerError, ApiErrors.InternalError, "An unexpected error occurred.", null);
        }
    }

    /// <summary>Runs a machine endpoint: authenticates the machine first, so nothing is parsed for an unknown caller.</summary>
    public Task<IActionResult> RunForMachineAsync(HttpRequest request, CancellationToken cancellationToken, Func<Machine, CancellationToken, Task<IActionResult>> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return RunAsync(request, cancellationToken, async token =>
        {
            var machine = await machines.AuthenticateAsync(request, token).ConfigureAwait(false);
            return await handle(machine, token).ConfigureAwait(false);
        });
    }

    /// <summary>Reads the body within the size limit, then parses it strictly with <paramref name="read"/>.</summary>
    public async Task<T> ReadJsonAsync<T>(HttpRequest request, Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = await bodies.ReadAsync(request, cancellationToken).ConfigureAwait(false);
        if (body.Length > 0 && !IsJson(request.ContentType))
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, ApiErrors.UnsupportedMediaType, "Send the body as application/json.");
        }

        return JsonFields.Parse(body, read);
    }

    private static ApiResult Problem(HttpRequest request, int status, string code, string title, string? field)
    {
        var result = ApiResult.Problem(request.HttpContext, status, code, title, field);
        return status == StatusCodes.Status401Unauthorized && code == ApiErrors.Unauthorized
            ? result.WithHeader("WWW-Authenticate", MachineAuthenticator.Challenge)
            : result;
    }

    // A missing Content-Type is tolerated (curl -d without -H); a different one is a client mistake worth naming.
    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        var mediaType = contentType.Split(';')[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }
}
