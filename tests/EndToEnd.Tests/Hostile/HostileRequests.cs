using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace VendingFunctions.Tests.Hostile;

/// <summary>One generated request: every one is bad by construction (wrong credentials, or a body, query or id the
/// route must refuse), so none may change a sale.</summary>
public sealed record HostileRequest(string Endpoint, string Kind, HttpMethod Method, string Path, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(Method, Path);
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }

        foreach (var (name, value) in Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return message;
    }
}

/// <summary>The credentials and sales the generator aims at.</summary>
public sealed record HostileTargets(
    string KeyA, string OwnSaleA, string KeyB, string OwnSaleB, string DisabledKey, Uri WebhookUrl, string WebhookSecret, string Msn, string FunctionKey);

/// <summary>
/// A seeded generator of bad requests for the machine and webhook endpoints (and the operator routes without a function
/// key): mutated valid bodies, random bytes, boundary numbers, long strings, wrong types, unknown and repeated fields,
/// illegal ids, oversized bodies, bad query strings, bad credentials, forged and replayed signatures; and byte- and
/// escape-level garbage inside otherwise valid JSON strings (invalid and overlong UTF-8, encoded surrogates, lone and
/// swapped surrogate escapes, NUL, BOMs, bidi and other format characters), also in operator bodies sent with a valid
/// function key. Same seed, same requests.
/// </summary>
public sealed partial class HostileRequests(int seed, HostileTargets targets, int maxBodyBytes)
{
    private readonly Random _random = new(seed);

    private static readonly string[] BadIds =
    [
        "a", "short", "x\u0000y-1234567", "abc%def-123", "sale 0001 abcd", "sale_0001_abcd", "../../../etc/passwd", "sale-0001-abcd'--",
        "<script>alert(1)</script>", "sale\u00e6\u00f8\u00e5-0001", "\u202esale-0001-abcd", new string('a', 65), new string('9', 300),
        "sale-0001-abcd;DROP TABLE Sales", "%00%00%00%00", "PartitionKey eq 'x'", "sale#0001#abcd", "sale?0001=abcd", "emoji-\ud83d\ude00-12345",
        "CON", "sale/0001/abcd", "sale\\0001\\abcd", "\t\t\t\t\t\t\t\t\t",
    ];

    // HTTP headers carry visible ASCII only (the client refuses anything else before sending).
    private static readonly string[] HeaderSafeBadIds = BadIds.Where(id => id.All(c => c is >= '!' and <= '~')).ToArray();

    private static readonly string[] PathSafeBadIds = BadIds.Where(id => !id.Contains('\u0000', StringComparison.Ordinal)).ToArray();

    private static readonly object[] BadNumbers =
    [
        long.MaxValue, long.MinValue, -1, 0, 101, int.MaxValue, double.PositiveInfinity, 1.5, -0.0, "1", true, 9223372036854775808m, 1e-7, 100_000_001, 10_001,
    ];

    public List<HostileRequest> Generate(int count)
    {
        var kinds = new (string Endpoint, int Weight, Func<HostileRequest> Make)[]
        {
            ("POST /api/payments", 20, Create),
            ("GET /api/payments/{reference}", 16, Get),
            ("POST /api/payments/{reference}/vend", 18, Vend),
            ("POST /api/payments/{reference}/cancel", 15, Cancel),
            ("POST /api/webhooks/vipps", 21, Webhook),
            ("operator routes without a function key", 10, OperatorWithoutKey),
            ("operator routes with a key, garbage bodies", 8, OperatorGarbage),
        };
        var total = kinds.Sum(k => k.Weight);
        var requests = new List<HostileRequest>(count);
        while (requests.Count < count)
        {
            var pick = _random.Next(total);
            foreach (var kind in kinds)
            {
                if ((pick -= kind.Weight) < 0)
                {
                    requests.Add(kind.Make());
                    break;
                }
            }
        }

        return requests;
    }

    // ---- building blocks ----

    private static HostileRequest Machine(string endpoint, string kind, HttpMethod method, string path, byte[]? body, string? authorization, string contentType = "application/json") =>
        new(endpoint, kind, method, path, body, body is null ? null : contentType, authorization is null ? [] : [("Authorization", authorization)]);

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(8, 600)];
        _random.NextBytes(bytes);
        bytes[0] = (byte)Pick('[', '"', 0xFF, 0x00, 'x', '1', '{');
        bytes[^1] = (byte)Pick('x', 0x80, '\\', '"');
        return bytes;
    }

    private byte[] Oversized()
    {
        var filler = new string('a', maxBodyBytes + _random.Next(1, 64 * 1024));
        return Utf8($$"""{"outcome":"delivered","machineSaleId":"{{filler}}"}""");
    }

    private byte[] Truncated(string json) => Utf8(json[..Math.Max(1, _random.Next(json.Length - 1))]);

    private string RandomName() => Pick("extra", "__proto__", "constructor", "Outcome", "MACHINESALEID", "id", "$type", "amount", "secret", "p" + _random.Next(1000), "a.b", "lines[0]");

    private string RandomJsonValue() => Pick("1", "\"x\"", "null", "true", "[]", "{}", long.MaxValue.ToString(CultureInfo.InvariantCulture), "1e400", "\"" + new string('v', 500) + "\"");

    private static string Remove(string json, string field)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var kept = document.RootElement.EnumerateObject().Where(p => p.Name != field).Select(p => $"\"{p.Name}\":{p.Value.GetRawText()}");
        return "{" + string.Join(",", kept) + "}";
    }

    private static string Json(object value) => value switch
    {
        string text => System.Text.Json.JsonSerializer.Serialize(text),
        bool flag => flag ? "true" : "false",
        double d when double.IsInfinity(d) || d > 1e300 => "1e400",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => "null",
    };

    private static string Escape(string reference) => Uri.EscapeDataString(reference);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private T Pick<T>(params T[] values) => values[_random.Next(values.Length)];
}
