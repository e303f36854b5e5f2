using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VippsSimulator.Webhooks;

/// <summary>The headers of one signed delivery.</summary>
public sealed record WebhookSignatureHeaders(string Date, string ContentSha256, string Authorization);

/// <summary>
/// Signs a webhook the way Vipps documents it: SHA-256 of the body, then HMAC-SHA256 with the UTF-8 bytes of the
/// secret over "POST\n{pathAndQuery}\n{x-ms-date};{host};{x-ms-content-sha256}", path and host taken from the registered URL.
/// </summary>
public static class WebhookSigner
{
    public static WebhookSignatureHeaders Sign(Uri url, byte[] body, string secret, DateTimeOffset now)
    {
        var date = now.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        var contentHash = Convert.ToBase64String(SHA256.HashData(body));
        var toSign = $"POST\n{url.PathAndQuery}\n{date};{url.Authority};{contentHash}";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(toSign)));
        return new WebhookSignatureHeaders(date, contentHash, $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}");
    }
}
