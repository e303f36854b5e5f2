using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vending.Core.Storage;
using Vending.Core;
using VendingFunctions.Tests.EndToEnd;
using VendingFunctions.Tests.Operator;
using Xunit.Abstractions;

namespace VendingFunctions.Tests.Contract;

/// <summary>
/// docs/openapi.yaml is the API's contract: it names exactly the routes the Function App has, its limits are the
/// server's (<see cref="InputLimits"/>), and what the server answers matches it. Every <see cref="ProductStack"/>
/// also checks all the answers its tests received when it is disposed; the hostile-input suite checks its refusals.
/// </summary>
public sealed class OpenApiContractTests(ProductStack stack, ITestOutputHelper output) : IClassFixture<ProductStack>
{
    private static OpenApiDocument Document => OpenApiDocument.Current;

    [Fact]
    public void The_document_has_exactly_the_http_routes_of_functions_metadata()
    {
        var built = MetadataRoutes();
        var documented = Document.Operations.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(built);

        Assert.Empty(built.Except(documented).Order());
        Assert.Empty(documented.Except(built).Order());
    }

    [Fact]
    public void Every_operation_documents_its_success_its_refusals_as_problems_and_how_it_is_authenticated()
    {
        var schemes = Document.At("/components/securitySchemes")!.AsObject().Select(s => s.Key).ToHashSet();
        Assert.Equal(["functionKey", "functionKeyQuery", "machineKey", "platformPrincipal", "vippsHmac"], schemes.Order());
        foreach (var operation in Document.Operations)
        {
            var responses = operation.Node["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('2'));
            foreach (var (status, response) in responses.Where(r => r.Key[0] is '4' or '5'))
            {
                var content = Document.Resolve(response)!["content"]!.AsObject();
                Assert.True(content.ContainsKey("application/problem+json"), $"{operation.Key} {status} is not problem+json");
            }

            // Operator routes inherit the document's operator key or signed-in principal; the others say who they are for.
            var security = operation.Node["security"] ?? Document.Root["security"];
            var named = security!.AsArray().SelectMany(s => s!.AsObject().Select(p => p.Key)).ToList();
            var expected = operation.Path switch
            {
                "/api/health" or "/api/console/{file}" => [],
                "/api/webhooks/vipps" => ["vippsHmac"],
                _ when operation.Path.StartsWith("/api/payments", StringComparison.Ordinal) => ["machineKey"],
                _ => new List<string> { "functionKey", "functionKeyQuery", "platformPrincipal" },
            };
            Assert.True(expected.SequenceEqual(named), $"{operation.Key}: security {string.Join(",", named)}");
        }
    }

    [Fact]
    public void The_documented_limits_are_the_servers_input_limits()
    {
        var create = "/components/schemas/CreatePaymentRequest/properties";
        var line = "/components/schemas/CreatePaymentLine/properties";
        var vend = "/components/schemas/VendReport/properties/deliveredLines";
        var expected = new (string Pointer, object Value)[]
        {
            ($"{create}/machineSaleId/maxLength", InputLimits.MachineSaleIdMaxLength),
            ($"{create}/machineSaleId/pattern", InputLimits.MachineSaleIdPattern),
            ($"{create}/lines/minItems", 1),
            ($"{create}/lines/maxItems", InputLimits.MaxLines),
            ($"{create}/qr/properties/size/minimum", InputLimits.MinQrSize),
            ($"{create}/qr/properties/size/maximum", InputLimits.MaxQrSize),
            ($"{line}/productId/maxLength", InputLimits.ProductIdMaxLength),
            ($"{line}/productId/pattern", InputLimits.ProductIdPattern),
            ($"{line}/name/maxLength", InputLimits.LineNameMaxLength),
            ($"{line}/quantity/minimum", InputLimits.MinQuantity),
            ($"{line}/quantity/maximum", InputLimits.MaxQuantity),
            ($"{line}/unitPrice/minimum", InputLimits.MinUnitPrice),
            ($"{line}/unitPrice/maximum", InputLimits.MaxAmount),
            ($"{line}/taxRate/maximum", InputLimits.MaxTaxRate),
            ($"{vend}/maxItems", InputLimits.MaxLines),
            ($"{vend}/items/properties/productId/pattern", InputLimits.ProductIdPattern),
            ($"{vend}/items/properties/quantity/maximum", InputLimits.MaxDeliveredQuantity),
            ("/components/schemas/RefundRequest/properties/amount/maximum", InputLimits.MaxRefundAmount),
            ("/components/schemas/RefundRequest/properties/requestId/pattern", InputLimits.RequestIdPattern),
            ("/components/schemas/RefundRequest/properties/requestId/maxLength", InputLimits.RequestIdMaxLength),
            ("/components/schemas/OperatorActionRequest/properties/requestId/pattern", InputLimits.RequestIdPattern),
            ("/components/schemas/ProvisionMachineRequest/properties/name/maxLength", InputLimits.MachineNameMaxLength),
            ("/components/schemas/ProvisionMachineRequest/properties/location/maxLength", InputLimits.MachineLocationMaxLength),
            ("/components/schemas/ProvisionMachineRequest/properties/merchantId/maxLength", InputLimits.MerchantIdMaxLength),
            ("/components/schemas/ProvisionMachineRequest/properties/machineId/pattern", InputLimits.MachineIdPattern),
            ("/components/parameters/Reference/schema/pattern", InputLimits.ReferencePattern),
            ("/components/parameters/MachineId/schema/pattern", InputLimits.MachineIdPattern),
            ("/paths/~1api~1payments~1{reference}/get/parameters/1/schema/maximum", Vending.Core.Http.RequestReaders.MaxWaitSeconds),
            ("/paths/~1api~1operator~1sales/get/parameters/3/schema/maximum", Vending.Core.Operator.OperatorSaleQueries.MaxPageSize),
        };

        foreach (var (pointer, value) in expected)
        {
            var node = Document.At(pointer);
            Assert.True(node is not null, $"{pointer} is missing from the document");
            Assert.True(node!.ToJsonString() == JsonSerializer.Serialize(value), $"{pointer}: the document says {node.ToJsonString()}, the server {JsonSerializer.Serialize(value)}");
        }
    }

    [Fact]
    public void The_check_refuses_undocumented_statuses_codes_fields_and_content_types()
    {
        const string problem = """{"type":"urn:vending:problem:sale_not_found","title":"x","status":404,"code":"sale_not_found","traceId":"t"}""";
        Assert.Empty(Document.Check("GET", "/api/payments/vm-abc-12345678", 404, "application/problem+json", problem));
        Assert.Empty(Document.Check("GET", "/api/health", 200, "application/json", """{"status":"ok"}"""));

        // A status the route does not answer, a code it does not use, a field the schema does not have, the wrong type.
        Assert.NotEmpty(Document.Check("GET", "/api/payments/vm-abc-12345678", 418, "application/problem+json", problem));
        Assert.NotEmpty(Document.Check("GET", "/api/payments/vm-abc-12345678", 404, "application/problem+json", problem.Replace("sale_not_found", "machine_not_found", StringComparison.Ordinal)));
        Assert.NotEmpty(Document.Check("GET", "/api/health", 200, "application/json", """{"status":"ok","version":"1"}"""));
        Assert.NotEmpty(Document.Check("GET", "/api/health", 200, "text/plain", "ok"));
        Assert.NotEmpty(Document.Check("GET", "/api/payments/vm-abc-12345678", 404, "application/json", problem));
        Assert.NotEmpty(Document.Check("DELETE", "/api/payments/vm-abc-12345678", 200, "application/json", "{}"));
        // A sale missing a required amount, and one with a state that does not exist.
        var sale = SampleSale();
        Assert.Empty(Document.Check("POST", "/api/payments", 201, "application/json", sale.ToJsonString()));
        var noAmount = sale.DeepClone().AsObject();
        noAmount.Remove("capturedAmount");
        Assert.NotEmpty(Document.Check("POST", "/api/payments", 201, "application/json", noAmount.ToJsonString()));
        var badState = sale.DeepClone().AsObject();
        badState["state"] = "Paid";
        Assert.NotEmpty(Document.Check("POST", "/api/payments", 201, "application/json", badState.ToJsonString()));

        // Headers: a 201 without Location, an answer that may be cached, a 401 with another challenge.
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Cache-Control"] = "no-store", ["Location"] = "/api/payments/vm-abc-12345678" };
        Assert.Empty(Document.Check("POST", "/api/payments", 201, "application/json", sale.ToJsonString(), headers));
        Assert.NotEmpty(Document.Check("POST", "/api/payments", 201, "application/json", sale.ToJsonString(), new Dictionary<string, string> { ["Cache-Control"] = "no-store" }));
        Assert.NotEmpty(Document.Check("POST", "/api/payments", 201, "application/json", sale.ToJsonString(), new Dictionary<string, string> { ["Location"] = "/api/payments/x" }));
        var unauthorized = problem.Replace("sale_not_found", "unauthorized", StringComparison.Ordinal).Replace("404", "401", StringComparison.Ordinal);
        var challenge = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Cache-Control"] = "no-store", ["WWW-Authenticate"] = "Bearer realm=\"vending\"" };
        Assert.Empty(Document.Check("GET", "/api/payments/vm-abc-12345678", 401, "application/problem+json", unauthorized, challenge));
        challenge["WWW-Authenticate"] = "Basic";
        Assert.NotEmpty(Document.Check("GET", "/api/payments/vm-abc-12345678", 401, "application/problem+json", unauthorized, challenge));
    }

    [Fact]
    public async Task The_answers_of_a_whole_sale_and_its_refusals_over_http_match_the_document()
    {
        using var machine = await stack.NewMachineAsync("contract");
        var created = await machine.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url");
        (await machine.CreateAsync(created.Json.GetProperty("machineSaleId").GetString()!, MachineClient.Cola())).AssertStatus(HttpStatusCode.OK);
        (await machine.CreateAsync("second-sale", MachineClient.Cola())).AssertStatus(HttpStatusCode.Conflict);
        Assert.Null(stack.Simulator.Approve(created.Reference));
        await machine.WaitForStateAsync(created.Reference, "Authorized");
        (await machine.VendAsync(created.Reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(created.Reference, "Captured");
        (await machine.VendAsync(created.Reference, "failed")).AssertStatus(HttpStatusCode.Conflict);
        (await machine.CancelAsync(created.Reference)).AssertStatus(HttpStatusCode.Conflict);
        (await machine.GetAsync("vm-nobody-000000-abcdef")).AssertStatus(HttpStatusCode.NotFound);
        using (var stranger = stack.Machine(new ProvisionedMachine(machine.MachineId, machine.MachineId + ".not-the-secret")))
        {
            (await stranger.GetAsync(created.Reference)).AssertStatus(HttpStatusCode.Unauthorized);
        }

        (await machine.SendAsync(HttpMethod.Post, "api/payments", new { machineSaleId = "x", currency = "NOK", lines = new[] { new { productId = "a", name = "\u202eevil", quantity = 1, unitPrice = 100, taxRate = 0 } } }))
            .AssertStatus(HttpStatusCode.BadRequest);
        await SendRawAsync(machine.Http, HttpMethod.Post, "api/payments", """{"machineSaleId":"\ud800"}""", HttpStatusCode.BadRequest);
        await SendRawAsync(machine.Http, HttpMethod.Get, $"api/payments/{created.Reference}?wait=99", null, HttpStatusCode.BadRequest);

        // The operator's view of the same sale, and every other operator route.
        await OperatorAsync(HttpMethod.Get, $"api/operator/sales/{created.Reference}", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, $"api/operator/sales/{created.Reference}/vipps", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Post, $"api/operator/sales/{created.Reference}/refunds", new { amount = 1000, requestId = "contract-1" }, HttpStatusCode.Accepted);
        await OperatorAsync(HttpMethod.Post, $"api/operator/sales/{created.Reference}/refunds", new { amount = 99_999, requestId = "contract-2" }, expected: null); // 400 or 409, depending on how far the refund got
        await OperatorAsync(HttpMethod.Get, $"api/operator/sales?machineId={machine.MachineId}&pageSize=1", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/sales?machineId=x", null, HttpStatusCode.BadRequest);
        await OperatorAsync(HttpMethod.Get, "api/operator/reconciliation?lookback=5", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/merchants", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/machines", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, $"api/operator/machines/{machine.MachineId}", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/machines/no-such-machine", null, HttpStatusCode.NotFound);
        await OperatorAsync(HttpMethod.Post, "api/operator/webhooks/ensure", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/me", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/sales?pageSize=5", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/sales?state=Nope", null, HttpStatusCode.BadRequest);
        await OperatorAsync(HttpMethod.Get, "api/operator/summary", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/exports/sales", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/audit?pageSize=5", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, $"api/operator/audit?machineId={machine.MachineId}", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Get, "api/operator/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", null, HttpStatusCode.BadRequest);
        await OperatorAsync(HttpMethod.Post, "api/operator/machines", new { machineId = machine.MachineId, name = "again", location = "x", merchantId = "vippsno", currency = "NOK" }, HttpStatusCode.Conflict);
        await OperatorAsync(HttpMethod.Post, $"api/operator/machines/{machine.MachineId}/disable", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Post, $"api/operator/machines/{machine.MachineId}/enable", null, HttpStatusCode.OK);
        await OperatorAsync(HttpMethod.Post, $"api/operator/machines/{machine.MachineId}/rotate", null, HttpStatusCode.OK);
        (await machine.GetAsync(created.Reference)).AssertStatus(HttpStatusCode.OK); // within the rotation grace period
        using var health = await stack.Operator.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var recorded = stack.Responses.Responses;
        output.WriteLine(string.Join("\n", recorded.GroupBy(r => Document.Find(r.Method, r.Path)?.Key ?? "?").Select(g => $"{g.Key}: {string.Join(", ", g.Select(r => r.Status).Distinct())}")));
        Assert.Empty(stack.Responses.Violations(Document));
        // What the story reached: most of the document's operations, each answer attributed to one of them.
        var reached = recorded.Select(r => Document.Find(r.Method, r.Path)?.Key).ToHashSet();
        Assert.DoesNotContain(null, reached);
        Assert.True(reached.Count >= 15, $"only {reached.Count} operations reached");
    }

    private async Task OperatorAsync(HttpMethod method, string path, object? body, HttpStatusCode? expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await stack.Operator.SendAsync(request);
        if (expected is not null)
        {
            Assert.True(expected == response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task SendRawAsync(HttpClient http, HttpMethod method, string path, string? json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }

    private static HashSet<string> MetadataRoutes()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.EnumerateArray()
            .SelectMany(function => function.GetProperty("bindings").EnumerateArray())
            .Where(binding => binding.GetProperty("type").GetString() == "httpTrigger")
            .SelectMany(binding => binding.GetProperty("methods").EnumerateArray().Select(method => $"{method.GetString()!.ToUpperInvariant()} /api/{binding.GetProperty("route").GetString()!.Replace("{*", "{", StringComparison.Ordinal)}"))
            .ToHashSet(StringComparer.Ordinal);
    }

    private static JsonObject SampleSale() => JsonNode.Parse("""
        {"reference":"vm-abc-12345678","machineId":"abc","machineSaleId":"m-1","merchantId":"vippsno","state":"Created",
         "currency":"NOK","amount":2500,"authorizedAmount":0,"capturedAmount":0,"cancelledAmount":0,"refundedAmount":0,
         "deliveredAmount":0,"lines":[{"productId":"cola","name":"Cola","quantity":1,"unitPrice":2500,"taxRate":2500,"totalAmount":2500}],
         "qr":{"format":"url","url":"https://qr.example/1"},"createdAt":"2025-11-26T12:00:00+00:00",
         "updatedAt":"2025-11-26T12:00:00+00:00","expiresAt":"2025-11-26T12:10:00+00:00"}
        """)!.AsObject();
}
