using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using VippsSimulator.Hosting;

namespace VippsSimulator.Auth;

/// <summary>
/// Issues and checks JWT-shaped access tokens (HMAC-signed with a key that lives as long as the process), so a token
/// from one simulator run is worthless in the next, like a token from another environment.
/// </summary>
public sealed class AccessTokens(SimulatorClock clock, IOptions<SimulatorOptions> options)
{
    private readonly byte[] _signingKey = RandomNumberGenerator.GetBytes(32);

    public sealed record Issued(string AccessToken, DateTimeOffset NotBefore, DateTimeOffset ExpiresOn, int LifetimeSeconds);

    public Issued Issue(Merchant merchant)
    {
        var now = clock.GetUtcNow();
        var lifetime = options.Value.TokenLifetimeSeconds;
        var expires = now.AddSeconds(lifetime);
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { typ = "JWT", alg = "HS256" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["iss"] = "vipps-simulator",
            ["aud"] = "00000002-0000-0000-c000-000000000000",
            ["client_id"] = merchant.Options.ClientId,
            ["msn"] = merchant.Msn,
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString(),
        }));
        var signature = Base64Url(HMACSHA256.HashData(_signingKey, Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return new Issued($"{header}.{payload}.{signature}", now, expires, lifetime);
    }

    /// <summary>The client id the token was issued to, or null when the token is forged, malformed or expired.</summary>
    public string? Validate(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return null;
        var expected = HMACSHA256.HashData(_signingKey, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
        byte[] actual;
        JsonNode? claims;
        try
        {
            actual = FromBase64Url(parts[2]);
            claims = JsonNode.Parse(FromBase64Url(parts[1]));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(expected, actual) || claims is null) return null;
        var expires = DateTimeOffset.FromUnixTimeSeconds(claims["exp"]!.GetValue<long>());
        return clock.GetUtcNow() < expires ? claims["client_id"]!.GetValue<string>() : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
