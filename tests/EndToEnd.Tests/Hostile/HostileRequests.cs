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
public sealed class HostileRequests(int seed, HostileTargets targets, int maxBodyBytes)
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

    // ---- machine endpoints ----

    private HostileRequest Create()
    {
        var (auth, valid) = Auth();
        if (!valid)
        {
            // A perfectly good body with bad credentials.
            return Machine("POST /api/payments", $"auth:{auth.Kind}", HttpMethod.Post, "api/payments", Utf8(ValidCreate()), auth.Header);
        }

        // A valid key, so the body must be bad: a mutation that the strict reader refuses.
        var (kind, body, contentType) = BadBody(() => ValidCreate(), CreateMutations(), "machineSaleId", "currency", "productId", "name");
        return Machine("POST /api/payments", kind, HttpMethod.Post, "api/payments", body, auth.Header, contentType);
    }

    private HostileRequest Get()
    {
        var (auth, valid) = Auth();
        var reference = valid ? Pick(OwnReferenceOf(auth.Header), OtherReferenceOf(auth.Header), BadReference(), NewReference()) : Pick(OwnReference(), NewReference());
        var query = valid && _random.Next(3) > 0 ? BadPollQuery() : "";
        var kind = valid ? (query.Length > 0 ? "bad query" : "reference of another or none") : $"auth:{auth.Kind}";
        return Machine("GET /api/payments/{reference}", kind, HttpMethod.Get, $"api/payments/{Escape(reference)}{query}", null, auth.Header);
    }

    private HostileRequest Vend()
    {
        var (auth, valid) = Auth();
        if (!valid || _random.Next(4) == 0)
        {
            // Good body: bad credentials, or a sale this machine may not touch.
            var reference = valid ? Pick(OtherReferenceOf(auth.Header), BadReference(), NewReference()) : OwnReference();
            return Machine("POST /api/payments/{reference}/vend", valid ? "someone else's or no sale" : $"auth:{auth.Kind}", HttpMethod.Post,
                $"api/payments/{Escape(reference)}/vend", Utf8("""{"outcome":"delivered"}"""), auth.Header);
        }

        var (kind, body, contentType) = BadBody(() => """{"outcome":"partial","deliveredLines":[{"productId":"cola","quantity":1}]}""", VendMutations(), "outcome", "productId");
        return Machine("POST /api/payments/{reference}/vend", kind, HttpMethod.Post, $"api/payments/{Escape(OwnReferenceOf(auth.Header))}/vend", body, auth.Header, contentType);
    }

    private HostileRequest Cancel()
    {
        var (auth, valid) = Auth();
        if (!valid || _random.Next(4) == 0)
        {
            var reference = valid ? Pick(OtherReferenceOf(auth.Header), BadReference(), NewReference()) : OwnReference();
            return Machine("POST /api/payments/{reference}/cancel", valid ? "someone else's or no sale" : $"auth:{auth.Kind}", HttpMethod.Post,
                $"api/payments/{Escape(reference)}/cancel", null, auth.Header);
        }

        // Cancel takes no data: an empty body or {} would be valid, so every body here has content it must refuse.
        var (kind, body, contentType) = _random.Next(7) switch
        {
            0 => ("unknown field", Utf8($$"""{"{{RandomName()}}":{{RandomJsonValue()}}}"""), "application/json"),
            6 => GarbageIn("""{"reason":"customer left"}""", "reason"),
            1 => ("not an object", Utf8(Pick("[]", "null", "0", "\"cancel\"", "true", "[{}]")), "application/json"),
            2 => ("invalid json", Utf8(Pick("{", "{}}", "{\"a\":}", "{'a':1}", "}{", "{\"a\" 1}")), "application/json"),
            3 => ("wrong content type", Utf8("{}"), Pick("text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded")),
            4 => ("oversized", Oversized(), "application/json"),
            _ => ("random bytes", RandomBytes(), "application/json"),
        };
        return Machine("POST /api/payments/{reference}/cancel", kind, HttpMethod.Post, $"api/payments/{Escape(OwnReferenceOf(auth.Header))}/cancel", body, auth.Header, contentType);
    }

    private ((string Kind, string? Header) Auth, bool Valid) Auth() => _random.Next(10) switch
    {
        0 => (("none", null), false),
        1 => (("malformed", Pick("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer .", "Bearer a.", "Bearer .b", "Bearer a b.c", "Token " + targets.KeyA,
            "Bearer " + new string('k', 600), "Bearer " + targets.KeyA + " " + targets.KeyA)), false),
        2 => (("unknown machine", $"Bearer ghost-{_random.Next(1000)}.{RandomName()}"), false),
        3 => (("wrong secret", $"Bearer {targets.KeyA[..targets.KeyA.IndexOf('.')]}.{RandomName()}"), false),
        4 => (("disabled machine", "Bearer " + targets.DisabledKey), false),
        5 => (("illegal machine id", $"Bearer {Pick(HeaderSafeBadIds)}.{RandomName()}"), false),
        6 or 7 => (("A", "Bearer " + targets.KeyA), true),
        _ => (("B", "Bearer " + targets.KeyB), true),
    };

    private string OwnReferenceOf(string? header) => header == "Bearer " + targets.KeyB ? targets.OwnSaleB : targets.OwnSaleA;

    private string OwnReference() => Pick(targets.OwnSaleA, targets.OwnSaleB);

    /// <summary>The other machine's sale: it must answer 404, exactly like a sale that does not exist.</summary>
    private string OtherReferenceOf(string? header) => header == "Bearer " + targets.KeyB ? targets.OwnSaleA : targets.OwnSaleB;

    // Kestrel itself refuses a path with an encoded NUL (a bare 400 before any function runs): such ids go in bodies only.
    private string BadReference() => Pick(PathSafeBadIds);

    private string NewReference() => $"vm-nobody-{_random.Next(1_000_000):D6}-abcdef";

    private string BadPollQuery() => _random.Next(12) switch
    {
        0 => "?wait=-1&state=Created",
        1 => "?wait=26&state=Created",
        2 => $"?wait={Pick("abc", "1.5", "1e3", "99999999999999999999", "0x10", " 1", "+1", "١")}&state=Created",
        3 => "?wait=5",
        4 => $"?wait=5&state={Pick("Bogus", "1", "Created,Authorized", "created;drop", "", "Creat ed", new string('A', 5000))}",
        5 => "?wait=1&wait=2&state=Created",
        6 => "?state=Created",
        7 => "?wait=5&state=Created&state=Authorized",
        8 => "?wait=%00&state=%00",
        9 => "?wait=" + new string('9', 2000),
        10 => "?wait=5&state=" + Uri.EscapeDataString("\u202eCreated"),
        _ => "?wait=" + long.MaxValue + "&state=Authorized",
    };

    private List<(string Kind, Func<string> Body)> CreateMutations() =>
    [
        ("missing field", () => Remove(ValidCreate(), Pick("machineSaleId", "currency", "lines"))),
        ("missing line field", () => ValidCreate(line: Pick("productId", "name", "quantity", "unitPrice", "taxRate"), lineValue: null)),
        ("wrong type", () => ValidCreate(field: Pick("machineSaleId", "currency", "lines", "qr"), value: Pick("1", "true", "[]", "{}", "\"x\"", "-5", "\"\""))),
        ("boundary number", () => ValidCreate(line: Pick("quantity", "unitPrice", "taxRate"), lineValue: Json(Pick(BadNumbers)))),
        ("bad id", () => ValidCreate(field: "machineSaleId", value: Json(Pick(BadIds)))),
        ("bad product id", () => ValidCreate(line: "productId", lineValue: Json(Pick(BadIds)))),
        ("long string", () => ValidCreate(line: "name", lineValue: Json(new string('n', Pick(101, 1000, 8000))))),
        ("bad currency", () => ValidCreate(field: "currency", value: Json(Pick("nok", "NOKK", "N0K", "", "€", "XXX\u0000")))),
        ("unknown field", () => ValidCreate(field: RandomName(), value: RandomJsonValue())),
        ("unknown line field", () => ValidCreate(line: "discount", lineValue: RandomJsonValue())),
        ("repeated field", () => ValidCreate().Replace("\"currency\":\"NOK\"", "\"currency\":\"NOK\",\"currency\":\"DKK\"")),
        ("too many lines", () => ValidCreate(lines: 51)),
        ("no lines", () => ValidCreate(lines: 0)),
        ("overflowing sum", () => ValidCreate(lines: 50, unitPrice: Pick(100_000_000L, long.MaxValue / 50, long.MaxValue), quantity: 100, distinct: _random.Next(2) == 0)),
        ("bad qr", () => ValidCreate(field: "qr", value: Pick("""{"format":"gif"}""", """{"size":99}""", """{"size":2001}""", """{"format":"svg","size":1e3}""", """{"format":"svg","colour":"red"}"""))),
        ("deep nesting", () => ValidCreate(field: "qr", value: new string('[', 200) + new string(']', 200))),
    ];

    private List<(string Kind, Func<string> Body)> VendMutations() =>
    [
        ("missing outcome", () => """{"deliveredLines":[{"productId":"cola","quantity":1}]}"""),
        ("bad outcome", () => $$"""{"outcome":{{Json(Pick<object>("Delivered!", "deliver", "", "1", 1, true, "partial ", "DELIVERED\u0000"))}}}"""),
        ("lines with delivered", () => """{"outcome":"delivered","deliveredLines":[{"productId":"cola","quantity":1}]}"""),
        ("lines with failed", () => """{"outcome":"failed","deliveredLines":[{"productId":"cola","quantity":0}]}"""),
        ("partial without lines", () => """{"outcome":"partial"}"""),
        ("partial with no items", () => """{"outcome":"partial","deliveredLines":[]}"""),
        ("boundary quantity", () => $$"""{"outcome":"partial","deliveredLines":[{"productId":"cola","quantity":{{Json(Pick<object>(-1, 101, long.MaxValue, long.MinValue, double.PositiveInfinity, 0.5, "1", true))}}}]}"""),
        ("bad product id", () => $$"""{"outcome":"partial","deliveredLines":[{"productId":{{Json(Pick(BadIds))}},"quantity":1}]}"""),
        ("unknown field", () => $$"""{"outcome":"delivered","{{RandomName()}}":{{RandomJsonValue()}}}"""),
        ("repeated field", () => """{"outcome":"failed","outcome":"delivered"}"""),
        ("too many lines", () => $$"""{"outcome":"partial","deliveredLines":[{{string.Join(",", Enumerable.Range(0, 51).Select(i => $$"""{"productId":"p{{i}}","quantity":1}"""))}}]}"""),
    ];

    /// <summary>A body the route must refuse: one of the route's mutations, or a refusal every route shares.</summary>
    private (string Kind, byte[] Body, string ContentType) BadBody(Func<string> valid, List<(string Kind, Func<string> Body)> mutations, params string[] textFields)
    {
        switch (_random.Next(12))
        {
            case 10:
            case 11: return GarbageIn(valid(), Pick(textFields));
            case 0: return ("random bytes", RandomBytes(), "application/json");
            case 1: return ("truncated json", Truncated(valid()), "application/json");
            case 2: return ("oversized", Oversized(), "application/json");
            case 3: return ("wrong content type", Utf8(MutateOnce(mutations)), Pick("text/plain", "application/xml", "image/png", "application/jsonx"));
            default:
                var (kind, body) = (mutations[_random.Next(mutations.Count)].Kind, "");
                body = mutations.First(m => m.Kind == kind).Body();
                return (kind, Utf8(body), Pick("application/json", "application/json; charset=utf-8", "application/problem+json"));
        }
    }

    private string MutateOnce(List<(string Kind, Func<string> Body)> mutations) => mutations[_random.Next(mutations.Count)].Body();

    private string ValidCreate(string? field = null, string? value = null, string? line = null, string? lineValue = "__keep", int lines = 1,
        long unitPrice = 2500, int quantity = 1, bool distinct = true)
    {
        var items = Enumerable.Range(0, lines).Select(i =>
        {
            var parts = new List<string>
            {
                $"\"productId\":\"{(distinct ? $"p{i}" : "cola")}\"",
                "\"name\":\"Cola\"",
                $"\"quantity\":{quantity}",
                $"\"unitPrice\":{unitPrice}",
                "\"taxRate\":2500",
            };
            if (line is not null)
            {
                parts.RemoveAll(p => p.StartsWith($"\"{line}\":", StringComparison.Ordinal));
                if (lineValue is not null)
                {
                    parts.Add($"\"{line}\":{lineValue}");
                }
            }

            return "{" + string.Join(",", parts) + "}";
        });
        var fields = new List<string>
        {
            $"\"machineSaleId\":\"fz-{_random.Next(1_000_000)}\"",
            "\"currency\":\"NOK\"",
            $"\"lines\":[{string.Join(",", items)}]",
        };
        if (field is not null)
        {
            fields.RemoveAll(p => p.StartsWith($"\"{field}\":", StringComparison.Ordinal));
            fields.Add($"\"{field}\":{value}");
        }

        return "{" + string.Join(",", fields) + "}";
    }

    // ---- webhooks ----

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

    // ---- operator routes, called as a machine or a stranger ----

    private HostileRequest OperatorWithoutKey()
    {
        var credentials = _random.Next(5) switch
        {
            0 => ("none", new List<(string, string)>()),
            1 => ("machine bearer key", [("Authorization", "Bearer " + targets.KeyA)]),
            2 => ("machine key as function key", [("x-functions-key", targets.KeyA)]),
            3 => ("wrong function key", [("x-functions-key", RandomName())]),
            _ => ("empty function key", [("x-functions-key", "")]),
        };
        var (method, path, body) = _random.Next(8) switch
        {
            0 => (HttpMethod.Get, "api/operator/machines", null),
            1 => (HttpMethod.Post, "api/operator/machines", """{"machineId":"intruder-1","name":"x","location":"y","merchantId":"vippsno","currency":"NOK"}"""),
            2 => (HttpMethod.Post, $"api/operator/machines/{Escape(targets.KeyA[..targets.KeyA.IndexOf('.')])}/rotate", null),
            3 => (HttpMethod.Post, $"api/operator/machines/{Escape(targets.KeyA[..targets.KeyA.IndexOf('.')])}/disable", null),
            4 => (HttpMethod.Get, $"api/operator/sales/{targets.OwnSaleB}", null),
            5 => (HttpMethod.Post, $"api/operator/sales/{targets.OwnSaleA}/refunds", """{"amount":1,"requestId":"intruder"}"""),
            6 => (HttpMethod.Post, "api/operator/webhooks/ensure", null),
            _ => (HttpMethod.Get, $"api/operator/sales?machineId=x&code={Uri.EscapeDataString(targets.KeyA)}", null),
        };
        return new HostileRequest("operator routes without a function key", credentials.Item1, method, path, body is null ? null : Utf8(body), "application/json", credentials.Item2);
    }

    /// <summary>Operator bodies with garbage text, sent with the real function key: each must be refused by the reader
    /// (the provisioned id is fresh, so a body the reader let through would show as a new machine).</summary>
    private HostileRequest OperatorGarbage()
    {
        var machineA = Escape(targets.KeyA[..targets.KeyA.IndexOf('.')]);
        var (method, path, valid, fields) = _random.Next(4) switch
        {
            0 => (HttpMethod.Post, "api/operator/machines",
                $$"""{"machineId":"fz-op-{{_random.Next(1_000_000)}}","name":"Lobby","location":"Hall","merchantId":"vippsno","currency":"NOK"}""",
                new[] { "machineId", "name", "location", "merchantId", "currency" }),
            1 => (HttpMethod.Post, $"api/operator/sales/{targets.OwnSaleA}/refunds", """{"amount":1,"requestId":"fz-refund"}""", new[] { "requestId" }),
            2 => (HttpMethod.Post, $"api/operator/machines/{machineA}/{Pick("rotate", "disable", "enable")}", """{"note":"x"}""", new[] { "note" }),
            _ => (HttpMethod.Post, "api/operator/webhooks/ensure", """{"url":"https://example.com/hook"}""", new[] { "url" }),
        };
        var (kind, body, contentType) = GarbageIn(valid, Pick(fields));
        return new HostileRequest("operator routes with a key, garbage bodies", kind, method, path, body, contentType, [("x-functions-key", targets.FunctionKey)]);
    }

    // ---- byte- and escape-level garbage ----

    /// <summary>Bytes (raw, or JSON escapes spelled in ASCII) that no text field may accept: each is invalid UTF-8, an
    /// unpaired surrogate, or a control, format or separator character.</summary>
    private static readonly (string Kind, byte[] Bytes)[] Garbage =
    [
        ("invalid UTF-8", [0xFF, 0xFE]),
        ("lone continuation byte", [0x80]),
        ("truncated sequence", [0xC3]),
        ("overlong '/'", [0xC0, 0xAF]),
        ("overlong NUL", [0xC0, 0x80]),
        ("overlong 3-byte", [0xE0, 0x80, 0xAF]),
        ("UTF-8 encoded surrogate", [0xED, 0xA0, 0x80]),
        ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
        ("5-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
        ("raw NUL", [0x00]),
        ("escaped NUL", "\\u0000"u8.ToArray()),
        ("escaped control", "\\u001b"u8.ToArray()),
        ("lone high surrogate escape", "\\ud800"u8.ToArray()),
        ("lone low surrogate escape", "\\udc00"u8.ToArray()),
        ("swapped surrogate escapes", "\\udc00\\ud800"u8.ToArray()),
        ("high surrogate escape before text", "\\ud83dx"u8.ToArray()),
        ("raw BOM", [0xEF, 0xBB, 0xBF]),
        ("escaped BOM", "\\ufeff"u8.ToArray()),
        ("raw bidi override", [0xE2, 0x80, 0xAE]),
        ("escaped bidi isolate", "\\u2066"u8.ToArray()),
        ("zero width space", [0xE2, 0x80, 0x8B]),
        ("escaped line separator", "\\u2028"u8.ToArray()),
    ];

    /// <summary>The valid ASCII body with garbage inside the string value of <paramref name="field"/> (after its first
    /// character), sometimes behind a UTF-8 BOM, sometimes re-encoded as UTF-16.</summary>
    private (string Kind, byte[] Body, string ContentType) GarbageIn(string valid, string field)
    {
        var marker = $"\"{field}\":\"";
        var at = valid.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            throw new InvalidOperationException($"{field} is not a string field of {valid}");
        }

        if (_random.Next(12) == 0)
        {
            // The whole body in UTF-16 with its BOM: not UTF-8 JSON, whatever it says.
            return ("UTF-16 body", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(valid)], "application/json");
        }

        var (kind, garbage) = Garbage[_random.Next(Garbage.Length)];
        var split = at + marker.Length + 1;
        byte[] body = [.. Encoding.ASCII.GetBytes(valid[..split]), .. garbage, .. Encoding.ASCII.GetBytes(valid[split..])];
        return _random.Next(6) == 0
            ? ($"UTF-8 BOM + {kind} in {field}", [0xEF, 0xBB, 0xBF, .. body], "application/json")
            : ($"{kind} in {field}", body, "application/json");
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
