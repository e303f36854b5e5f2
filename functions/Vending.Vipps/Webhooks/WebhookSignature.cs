using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Vending.Vipps.Webhooks;

public enum WebhookSignatureResult
{
    Valid,
    MissingHeaders,
    StaleOrInvalidDate,
    ContentHashMismatch,
    SignatureMismatch,
}

/// <summary>The headers Vipps sends with a webhook (<see cref="WebhookSignature.Sign"/> produces them for tests and load runs).</summary>
public sealed record WebhookSignatureHeaders(string XMsDate, string XMsContentSha256, string Authorization, string Host);

/// <summary>
/// Verifies a Vipps MobilePay webhook exactly as Vipps MobilePay documents it (Webhooks API, "Request authentication"): the body's SHA-256,
/// then HMAC-SHA256 over "POST\n{pathAndQuery}\n{x-ms-date};{host};{x-ms-content-sha256}" keyed with the
/// UTF-8 bytes of the registration secret, compared in constant time. Path and host are those of the
/// registered URL, not of the incoming request (proxies may rewrite them).
/// </summary>
public static class WebhookSignature
{
    public const string DateHeader = "x-ms-date";
    public const string ContentHashHeader = "x-ms-content-sha256";
    public const string AuthorizationHeader = "Authorization";

    private const string AuthorizationPrefix = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=";

    // RFC 1123 as .NET writes it ("r"), and the same with a one-digit day, which RFC 1123 also allows.
    private static readonly string[] Rfc1123Formats = ["r", "ddd, d MMM yyyy HH':'mm':'ss 'GMT'"];

    public static WebhookSignatureResult Verify(
        string secret,
        Uri registeredUrl,
        string? xMsDate,
        string? xMsContentSha256,
        string? authorization,
        ReadOnlySpan<byte> body,
        DateTimeOffset now,
        TimeSpan allowedClockSkew)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(registeredUrl);

        if (string.IsNullOrEmpty(xMsDate) || string.IsNullOrEmpty(xMsContentSha256) || string.IsNullOrEmpty(authorization))
        {
            return WebhookSignatureResult.MissingHeaders;
        }

        if (!DateTimeOffset.TryParseExact(xMsDate, Rfc1123Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var sentAt)
            || (now - sentAt).Duration() > allowedClockSkew)
        {
            return WebhookSignatureResult.StaleOrInvalidDate;
        }

        if (!FixedTimeEquals(ContentHash(body), xMsContentSha256))
        {
            return WebhookSignatureResult.ContentHashMismatch;
        }

        var expected = AuthorizationValue(secret, registeredUrl, xMsDate, xMsContentSha256);
        return FixedTimeEquals(expected, authorization) ? WebhookSignatureResult.Valid : WebhookSignatureResult.SignatureMismatch;
    }

    /// <summary>
    /// Signs <paramref name="body"/> as Vipps would for a webhook registered at <paramref name="registeredUrl"/>.
    /// For our tests and the load harness; the product itself only verifies.
    /// </summary>
    public static WebhookSignatureHeaders Sign(string secret, Uri registeredUrl, ReadOnlySpan<byte> body, DateTimeOffset date)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(registeredUrl);

        var xMsDate = date.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);
        var contentHash = ContentHash(body);
        return new WebhookSignatureHeaders(xMsDate, contentHash, AuthorizationValue(secret, registeredUrl, xMsDate, contentHash), registeredUrl.Authority);
    }

    private static string ContentHash(ReadOnlySpan<byte> body) => Convert.ToBase64String(SHA256.HashData(body));

    private static string AuthorizationValue(string secret, Uri registeredUrl, string xMsDate, string contentHash)
    {
        if (!registeredUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("The registered webhook URL must be absolute.", nameof(registeredUrl));
        }

        // Uri.Authority carries the port only when it is not the scheme's default, as the sender's host does.
        var stringToSign = $"POST\n{registeredUrl.PathAndQuery}\n{xMsDate};{registeredUrl.Authority};{contentHash}";
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(stringToSign));
        return AuthorizationPrefix + Convert.ToBase64String(signature);
    }

    private static bool FixedTimeEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));
}
