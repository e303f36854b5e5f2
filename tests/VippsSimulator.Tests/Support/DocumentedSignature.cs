using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VippsSimulator.Tests.Support;

/// <summary>
/// The receiver's check, written from Vipps' webhook request-authentication page (not from the simulator's signer): hash the body as
/// received, rebuild "POST\n{pathAndQuery}\n{x-ms-date};{host};{hash}" from the registered URL, HMAC-SHA256 it with
/// the UTF-8 bytes of the secret, and compare with the Authorization header.
/// </summary>
public static class DocumentedSignature
{
    public static void AssertValid(ReceivedWebhook webhook, Uri registeredUrl, string secret)
    {
        var hash = Convert.ToBase64String(SHA256.HashData(webhook.Body));
        Assert.Equal(hash, webhook.Headers["x-ms-content-sha256"]);
        var date = webhook.Headers["x-ms-date"];
        Assert.True(DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _), $"x-ms-date '{date}' is not RFC 1123");
        Assert.Equal(registeredUrl.Authority, webhook.Host);

        var toSign = "POST\n" + registeredUrl.PathAndQuery + "\n" + date + ";" + registeredUrl.Authority + ";" + hash;
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
        var expected = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + signature;
        Assert.True(CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(webhook.Headers["Authorization"])),
            "Authorization header does not match the documented HMAC");
    }
}
