using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Vending.Vipps.Webhooks;

namespace Vending.Vipps.Tests;

public sealed class WebhookSignatureTests
{
    private const string Secret = "c2VjcmV0LW5vdC1iYXNlNjQ="; // looks like base64 on purpose: the key is its UTF-8 bytes, not its decoding
    private static readonly Uri RegisteredUrl = new("https://vending.example.com:8443/api/webhooks/vipps?merchant=vipps-no");
    private static readonly DateTimeOffset Now = new(2025, 11, 27, 10, 0, 5, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"msn":"123456","reference":"vm17-000123","pspReference":"7686f7788898767977","name":"AUTHORIZED","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-27T10:00:00.1234567Z","idempotencyKey":null,"success":true}""");

    [Fact]
    public void A_vector_computed_outside_dotnet_verifies()
    {
        // Computed with openssl from the documented algorithm:
        //   hash = base64(sha256(body)); printf 'POST\n%s\n%s;%s;%s' path date host hash | openssl dgst -sha256 -hmac "$secret" -binary | base64
        const string date = "Thu, 27 Nov 2025 10:00:05 GMT";
        const string hash = "baVqDjzFUx1io8JkPFCD/lkE5wPvqcoB32QuPaEaYsE=";
        const string authorization = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=xVU97nBAWMmtqqVg/jE3tB8MkFI2ZMRxbs7FTIiuGRI=";

        var result = WebhookSignature.Verify(Secret, RegisteredUrl, date, hash, authorization, Body, Now, Skew);

        Assert.Equal(WebhookSignatureResult.Valid, result);
    }

    [Fact]
    public void A_signature_made_by_the_documented_algorithm_verifies()
    {
        var (date, hash, authorization) = SignByHand(Secret, "/api/webhooks/vipps?merchant=vipps-no", "vending.example.com:8443", Body, Now);

        Assert.Equal(WebhookSignatureResult.Valid, WebhookSignature.Verify(Secret, RegisteredUrl, date, hash, authorization, Body, Now, Skew));
    }

    [Fact]
    public void Sign_produces_the_headers_of_the_documented_algorithm()
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now);
        var (date, hash, authorization) = SignByHand(Secret, "/api/webhooks/vipps?merchant=vipps-no", "vending.example.com:8443", Body, Now);

        Assert.Equal(new WebhookSignatureHeaders(date, hash, authorization, "vending.example.com:8443"), headers);
        Assert.Equal(WebhookSignatureResult.Valid, WebhookSignature.Verify(Secret, RegisteredUrl, headers.XMsDate, headers.XMsContentSha256, headers.Authorization, Body, Now, Skew));
    }

    [Fact]
    public void A_wrong_secret_is_a_signature_mismatch()
    {
        var headers = WebhookSignature.Sign("another-secret", RegisteredUrl, Body, Now);

        Assert.Equal(WebhookSignatureResult.SignatureMismatch, Verify(headers, Body));
    }

    [Fact]
    public void A_base64_decoded_key_is_not_the_key()
    {
        var (date, hash, _) = SignByHand(Secret, "/api/webhooks/vipps?merchant=vipps-no", "vending.example.com:8443", Body, Now);
        var stringToSign = $"POST\n/api/webhooks/vipps?merchant=vipps-no\n{date};vending.example.com:8443;{hash}";
        var decodedKeySignature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(Secret), Encoding.UTF8.GetBytes(stringToSign)));

        var result = WebhookSignature.Verify(Secret, RegisteredUrl, date, hash, $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={decodedKeySignature}", Body, Now, Skew);

        Assert.Equal(WebhookSignatureResult.SignatureMismatch, result);
    }

    [Fact]
    public void A_tampered_body_is_a_content_hash_mismatch()
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("2500", "25000", StringComparison.Ordinal));

        Assert.Equal(WebhookSignatureResult.ContentHashMismatch, Verify(headers, tampered));
    }

    [Fact]
    public void A_tampered_body_with_a_recomputed_hash_is_a_signature_mismatch()
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("2500", "25000", StringComparison.Ordinal));
        var forged = headers with { XMsContentSha256 = Convert.ToBase64String(SHA256.HashData(tampered)) };

        Assert.Equal(WebhookSignatureResult.SignatureMismatch, Verify(forged, tampered));
    }

    [Theory]
    [InlineData("https://vending.example.com:8443/api/webhooks/other?merchant=vipps-no")] // path
    [InlineData("https://vending.example.com:8443/api/webhooks/vipps?merchant=mobilepay-dk")] // query
    [InlineData("https://vending.example.com/api/webhooks/vipps?merchant=vipps-no")] // port
    [InlineData("https://other.example.com:8443/api/webhooks/vipps?merchant=vipps-no")] // host
    public void A_signature_for_another_url_is_a_mismatch(string signedFor)
    {
        var headers = WebhookSignature.Sign(Secret, new Uri(signedFor), Body, Now);

        Assert.Equal(WebhookSignatureResult.SignatureMismatch, Verify(headers, Body));
    }

    [Fact]
    public void A_default_port_is_not_part_of_the_host()
    {
        var (date, hash, authorization) = SignByHand(Secret, "/api/webhooks/vipps", "vending.example.com", Body, Now);

        var result = WebhookSignature.Verify(Secret, new Uri("https://vending.example.com:443/api/webhooks/vipps"), date, hash, authorization, Body, Now, Skew);

        Assert.Equal(WebhookSignatureResult.Valid, result);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public void A_date_outside_the_allowed_skew_is_stale(int secondsFromNow)
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now.AddSeconds(secondsFromNow));

        Assert.Equal(WebhookSignatureResult.StaleOrInvalidDate, Verify(headers, Body));
    }

    [Theory]
    [InlineData(-299)]
    [InlineData(299)]
    public void A_date_inside_the_allowed_skew_is_accepted(int secondsFromNow)
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now.AddSeconds(secondsFromNow));

        Assert.Equal(WebhookSignatureResult.Valid, Verify(headers, Body));
    }

    [Theory]
    [InlineData("2025-11-27T10:00:05Z")]
    [InlineData("yesterday")]
    [InlineData("Thu, 27 Nov 2025 10:00:05")]
    public void A_date_that_is_not_rfc1123_is_invalid(string date)
    {
        var (_, hash, authorization) = SignByHand(Secret, "/api/webhooks/vipps?merchant=vipps-no", "vending.example.com:8443", Body, Now, dateOverride: date);

        Assert.Equal(WebhookSignatureResult.StaleOrInvalidDate, WebhookSignature.Verify(Secret, RegisteredUrl, date, hash, authorization, Body, Now, Skew));
    }

    [Fact]
    public void A_date_header_other_than_the_signed_one_is_a_mismatch()
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now);

        Assert.Equal(WebhookSignatureResult.SignatureMismatch, Verify(headers with { XMsDate = Now.AddSeconds(1).ToString("r", CultureInfo.InvariantCulture) }, Body));
    }

    [Theory]
    [InlineData(null, "h", "a")]
    [InlineData("", "h", "a")]
    [InlineData("d", null, "a")]
    [InlineData("d", "", "a")]
    [InlineData("d", "h", null)]
    [InlineData("d", "h", "")]
    public void Missing_headers_are_reported_first(string? date, string? hash, string? authorization)
    {
        Assert.Equal(WebhookSignatureResult.MissingHeaders, WebhookSignature.Verify(Secret, RegisteredUrl, date, hash, authorization, Body, Now, Skew));
    }

    [Fact]
    public void An_authorization_with_another_scheme_is_a_mismatch()
    {
        var headers = WebhookSignature.Sign(Secret, RegisteredUrl, Body, Now);

        Assert.Equal(WebhookSignatureResult.SignatureMismatch, Verify(headers with { Authorization = headers.Authorization.Replace("HMAC-SHA256 ", "HMAC-SHA1 ", StringComparison.Ordinal) }, Body));
    }

    private static WebhookSignatureResult Verify(WebhookSignatureHeaders headers, byte[] body) =>
        WebhookSignature.Verify(Secret, RegisteredUrl, headers.XMsDate, headers.XMsContentSha256, headers.Authorization, body, Now, Skew);

    /// <summary>The documented algorithm, written out independently of the production code.</summary>
    private static (string Date, string Hash, string Authorization) SignByHand(string secret, string pathAndQuery, string host, byte[] body, DateTimeOffset date, string? dateOverride = null)
    {
        var xMsDate = dateOverride ?? date.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture);
        using var sha = SHA256.Create();
        var hash = Convert.ToBase64String(sha.ComputeHash(body));
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes("POST\n" + pathAndQuery + "\n" + xMsDate + ";" + host + ";" + hash)));
        return (xMsDate, hash, "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + signature);
    }
}
