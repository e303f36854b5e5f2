using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Vending.Core.Http;

/// <summary>
/// How an HTTP function reads its body: within the size limit, as JSON, strictly. Refusals are thrown
/// (<see cref="ApiProblemException"/>) and become problem+json around the function, in <see cref="HttpFunctionPipeline"/>.
/// </summary>
public sealed class HttpApi(RequestBodyReader bodies)
{
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
