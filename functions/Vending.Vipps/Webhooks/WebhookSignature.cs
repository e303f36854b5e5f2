namespace Vending.Vipps.Webhooks;

public enum WebhookSignatureResult
{
    Valid,
    MissingHeaders,
    StaleOrInvalidDate,
    ContentHashMismatch,
    SignatureMismatch,
}

/// <summary>
/// Verifies a Vipps MobilePay webhook exactly as documented (REFERENCE.md section 9): the body's SHA-256,
/// then HMAC-SHA256 over "POST\n{pathAndQuery}\n{x-ms-date};{host};{x-ms-content-sha256}" keyed with the
/// UTF-8 bytes of the registration secret, compared in constant time. Path and host are those of the
/// registered URL, not of the incoming request (proxies may rewrite them).
/// </summary>
public static class WebhookSignature
{
    public static WebhookSignatureResult Verify(
        string secret,
        Uri registeredUrl,
        string? xMsDate,
        string? xMsContentSha256,
        string? authorization,
        ReadOnlySpan<byte> body,
        DateTimeOffset now,
        TimeSpan allowedClockSkew)
        => throw new NotImplementedException("Implemented in the Vipps client work.");
}
