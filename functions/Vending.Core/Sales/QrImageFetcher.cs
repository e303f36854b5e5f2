using Microsoft.Extensions.Logging;

namespace Vending.Core.Sales;

public interface IQrImageFetcher
{
    /// <summary>The QR image at Vipps' link, or null when it could not be fetched (the caller hands over the URL instead).</summary>
    Task<FetchedImage?> FetchAsync(Uri imageUrl, CancellationToken cancellationToken);
}

/// <summary>Fetches Vipps' QR image (no auth needed) for machines that want bytes rather than a URL.</summary>
public sealed class QrImageFetcher(IHttpClientFactory clients, ILogger<QrImageFetcher> logger) : IQrImageFetcher
{
    public const string HttpClientName = "vipps-qr-image";
    private const int MaxBytes = 512 * 1024;

    public async Task<FetchedImage?> FetchAsync(Uri imageUrl, CancellationToken cancellationToken)
    {
        try
        {
            using var client = clients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(imageUrl, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength > MaxBytes)
            {
                logger.LogWarning("QR image fetch answered {Status}; the machine gets the URL", (int)response.StatusCode);
                return null;
            }

            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var contentType = response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
            return bytes.Length <= MaxBytes ? new FetchedImage(contentType, bytes) : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "QR image fetch failed; the machine gets the URL");
            return null;
        }
    }
}
