using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace VendingFunctions.Tests.Hostile;

/// <summary>Hostile requests for the operator routes, called as a machine or a stranger, and with garbage bodies under the real key.</summary>
public sealed partial class HostileRequests
{
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
}
