using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace VendingFunctions.Tests.Hostile;

/// <summary>Hostile requests for the Vipps webhook: unsigned, wrongly signed, stale and malformed deliveries.</summary>
public sealed partial class HostileRequests
{
    private HostileRequest Webhook()
    {
        // Requests are made before they are sent: dates stay well outside the 300 s skew either way.
        var now = DateTimeOffset.UtcNow;
        var known = Pick(targets.OwnSaleA, targets.OwnSaleB);
        var goodEvent = Event(known, Pick("AUTHORIZED", "CAPTURED", "CANCELLED", "REFUNDED", "ABORTED", "EXPIRED", "TERMINATED"));
        switch (_random.Next(13))
        {
            case 12:
                // Validly signed, garbage inside the msn: not the signing merchant's (or not JSON at all).
                var (garbageKind, garbage, _) = GarbageIn(goodEvent, "msn");
                return Hook($"signed, {garbageKind}", garbage, Sign(garbage, targets.WebhookSecret, now, targets.WebhookUrl));
            case 0: return Hook("no signature", Utf8(goodEvent), []);
            case 1: return Hook("forged: wrong secret", Utf8(goodEvent), Sign(goodEvent, RandomName(), now, targets.WebhookUrl));
            case 2: return Hook("replayed: stale date", Utf8(goodEvent), Sign(goodEvent, targets.WebhookSecret, now.AddSeconds(-Pick(900, 3600, 86_400)), targets.WebhookUrl));
            case 3: return Hook("replayed: future date", Utf8(goodEvent), Sign(goodEvent, targets.WebhookSecret, now.AddSeconds(Pick(1800, 3600, 86_400)), targets.WebhookUrl));
            case 4:
                var tampered = goodEvent.Replace("\"value\":2500", "\"value\":1", StringComparison.Ordinal).Replace("\"success\":true", "\"success\":false", StringComparison.Ordinal);
                return Hook("tampered body", Utf8(tampered + " "), Sign(goodEvent, targets.WebhookSecret, now, targets.WebhookUrl));
            case 5: return Hook("signed for another url", Utf8(goodEvent), Sign(goodEvent, targets.WebhookSecret, now, new Uri(Pick("https://attacker.example/api/webhooks/vipps", targets.WebhookUrl + "?x=1", "http://127.0.0.1:1/api/webhooks/vipps"))));
            case 6:
                var headers = Sign(goodEvent, targets.WebhookSecret, now, targets.WebhookUrl).ToList();
                var drop = _random.Next(headers.Count);
                var broken = headers.Select((h, i) => i == drop ? (h.Name, Pick("", "garbage", h.Value + "x", h.Value.ToLowerInvariant(), new string('z', 3000))) : h).ToList();
                return Hook("mangled signature header", Utf8(goodEvent), broken);
            case 7: return Hook("oversized", Oversized(), Sign("x", targets.WebhookSecret, now, targets.WebhookUrl));
            default:
                // Validly signed with the real secret, but not a payment event we can use: refused after verification.
                var bad = _random.Next(7) switch
                {
                    0 => Encoding.UTF8.GetString(RandomBytes()),
                    1 => Remove(goodEvent, Pick("msn", "reference", "pspReference", "name", "amount", "timestamp")),
                    2 => goodEvent.Replace("\"value\":2500", $"\"value\":{Json(Pick<object>(double.PositiveInfinity, true, 1.5, "x", "2.5e3x"))}", StringComparison.Ordinal),
                    3 => goodEvent.Replace("\"timestamp\":\"2025-11-26T12:00:00Z\"", $"\"timestamp\":{Json(Pick<object>("yesterday", 5, "", "2025-13-45T99:00:00Z"))}", StringComparison.Ordinal),
                    4 => goodEvent.Replace($"\"msn\":\"{targets.Msn}\"", $"\"msn\":\"{Pick("200002", "999999", "")}\"", StringComparison.Ordinal),
                    5 => Pick("[]", "null", "\"event\"", "{}", "{\"msn\":null}"),
                    _ => goodEvent.Replace("\"success\":true", $"\"success\":{Json(Pick<object>("yes", 1, "true"))}", StringComparison.Ordinal),
                };
                return Hook("signed, bad payload", Utf8(bad), Sign(bad, targets.WebhookSecret, now, targets.WebhookUrl));
        }
    }

    private string Event(string reference, string name) =>
        $$"""{"msn":"{{targets.Msn}}","reference":"{{reference}}","pspReference":"fz-{{_random.Next(1_000_000)}}","name":"{{name}}","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-26T12:00:00Z","success":true}""";

    private static List<(string Name, string Value)> Sign(string body, string secret, DateTimeOffset date, Uri url) =>
        Sign(Encoding.UTF8.GetBytes(body), secret, date, url);

    private static List<(string Name, string Value)> Sign(byte[] body, string secret, DateTimeOffset date, Uri url)
    {
        var xMsDate = date.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        var contentHash = Convert.ToBase64String(SHA256.HashData(body));
        var toSign = $"POST\n{url.PathAndQuery}\n{xMsDate};{url.Authority};{contentHash}";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(toSign)));
        return [("x-ms-date", xMsDate), ("x-ms-content-sha256", contentHash), ("Authorization", $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}")];
    }

    private static HostileRequest Hook(string kind, byte[] body, List<(string, string)> headers) =>
        new("POST /api/webhooks/vipps", kind, HttpMethod.Post, "api/webhooks/vipps", body, "application/json", headers);
}
