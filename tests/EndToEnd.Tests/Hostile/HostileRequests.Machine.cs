using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace VendingFunctions.Tests.Hostile;

/// <summary>Hostile requests for the machine endpoints: create, read, long-poll, vend report and cancel with bad ids, bodies and credentials.</summary>
public sealed partial class HostileRequests
{
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
}
