using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Vending.Core.Http;

/// <summary>
/// Reads a request body into memory with the size limit applied before a byte is parsed: a declared
/// <c>Content-Length</c> above the limit is refused without reading, and a chunked body is cut off one byte past it.
/// </summary>
public sealed class RequestBodyReader(IOptions<VendingOptions> options)
{
    private readonly int _maxBytes = options.Value.MaxRequestBodyBytes;

    public int MaxBytes => _maxBytes;

    public async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > _maxBytes)
        {
            throw TooLarge();
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(_maxBytes + 1, 64 * 1024));
        try
        {
            using var body = new MemoryStream();
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, _maxBytes + 1 - (int)body.Length)), cancellationToken).ConfigureAwait(false)) > 0)
            {
                body.Write(buffer, 0, read);
                if (body.Length > _maxBytes)
                {
                    throw TooLarge();
                }
            }

            return body.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ApiProblemException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, ApiErrors.BodyTooLarge, $"The request body exceeds {_maxBytes} bytes.");
}
