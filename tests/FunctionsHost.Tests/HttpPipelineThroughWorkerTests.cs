using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VippsSimulator.Faults;

namespace FunctionsHost.Tests;

/// <summary>
/// The Function App's own HTTP pipeline (HttpPipelineMiddleware in Program.cs) in the real worker: refusals, Vipps
/// outages and unexpected errors become problem+json there, not in the function bodies, and the long-poll stops when
/// the machine hangs up.
/// </summary>
public sealed class HttpPipelineThroughWorkerTests
{
    [Fact]
    public async Task Refusals_outages_and_unexpected_errors_are_answered_as_problem_json_by_the_worker_middleware()
    {
        await using var stack = await HostStack.StartAsync();
        var apiKey = await stack.ProvisionMachineAsync($"pipe-{Guid.NewGuid():N}"[..20]);
        using var machine = stack.Client(bearer: apiKey);
        using var operatorClient = stack.Client(operatorKey: true);

        // Domain refusals: each kind gets its status from the middleware's one table; code and field are the domain's.
        var invalid = await SendAsync(machine, HttpMethod.Post, "api/payments", new
        {
            machineSaleId = "s-1", currency = "SEK", lines = new[] { new { productId = "cola", name = "Cola", quantity = 1, unitPrice = 2500, taxRate = 2500 } },
        });
        AssertProblem(invalid, 400, "currency_mismatch", "currency");
        var unknown = await SendAsync(machine, HttpMethod.Post, "api/payments/no-such-sale-0000/vend", new { outcome = "delivered" });
        AssertProblem(unknown, 404, "sale_not_found", null);
        var reference = await CreateSaleAsync(machine);
        var notYet = await SendAsync(machine, HttpMethod.Post, $"api/payments/{reference}/vend", new { outcome = "delivered" });
        AssertProblem(notYet, 409, "sale_not_authorized", null);

        // An error nobody expected (Vipps refuses a read with a 409 the view does not handle): 500 that names the request
        // id and nothing of the cause; the error is logged with that id.
        stack.Simulator.Faults.Add(new FaultSettings
        {
            Rules = { new FaultRule { Endpoint = "get", Reference = reference, Status = 409, ErrorCode = "6200", Title = "Injected refusal for the pipeline test" } },
        });
        var unexpected = await SendAsync(operatorClient, HttpMethod.Get, $"api/operator/sales/{reference}/vipps");
        AssertProblem(unexpected, 500, "internal_error", null);
        Assert.Equal("An unexpected error occurred.", unexpected.Json.GetProperty("title").GetString());
        Assert.DoesNotContain("Injected", unexpected.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("6200", unexpected.Body, StringComparison.Ordinal);
        var requestId = unexpected.Json.GetProperty("traceId").GetString()!;
        await HostStack.WaitUntilAsync(() => Task.FromResult(stack.Logs.Any(line => line.StartsWith("Error", StringComparison.Ordinal)
                && line.Contains("Unhandled error in function GetSaleAtVipps", StringComparison.Ordinal) && line.Contains(requestId, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "the unhandled error logged with its request id", stack.ErrorLogs);

        // Vipps not answering: 503 with Retry-After, from the same place (a second machine: one open sale per machine).
        using var secondMachine = stack.Client(bearer: await stack.ProvisionMachineAsync($"pipe-{Guid.NewGuid():N}"[..20]));
        var other = await CreateSaleAsync(secondMachine);
        stack.Simulator.Faults.Add(new FaultSettings { Rules = { new FaultRule { Endpoint = "get", Reference = other, Status = 503 } } });
        var outage = await SendAsync(operatorClient, HttpMethod.Get, $"api/operator/sales/{other}/vipps");
        AssertProblem(outage, 503, "payment_provider_unavailable", null);
        Assert.Equal("5", outage.RetryAfter);

        // One request line per call: method, path without the query string, function, status.
        Assert.Contains(stack.Logs, line => line.Contains($"HTTP POST /api/payments/{reference}/vend ran function ReportVend: 409", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_long_poll_stops_in_the_worker_when_the_machine_hangs_up()
    {
        await using var stack = await HostStack.StartAsync();
        var apiKey = await stack.ProvisionMachineAsync($"hang-{Guid.NewGuid():N}"[..20]);
        using var machine = stack.Client(bearer: apiKey);
        var reference = await CreateSaleAsync(machine);

        // The machine gives up after 2 s of a 25 s long-poll; nothing will change the sale meanwhile.
        using (var hangUp = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => machine.GetAsync($"api/payments/{reference}?wait=25&state=Created", hangUp.Token));
        }

        // Without the link from the connection to the function's token the function would run its full 25 s.
        var pollLine = $"HTTP GET /api/payments/{reference} ran function GetPayment: 499";
        await HostStack.WaitUntilAsync(() => Task.FromResult(stack.Logs.Any(line => line.Contains(pollLine, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "the long-poll ended as 499 soon after the hang-up", stack.ErrorLogs);
        Assert.DoesNotContain(stack.Logs, line => line.Contains($"/api/payments/{reference}?", StringComparison.Ordinal));
    }

    private static async Task<string> CreateSaleAsync(HttpClient machine)
    {
        var created = await SendAsync(machine, HttpMethod.Post, "api/payments", new
        {
            machineSaleId = $"s-{Guid.NewGuid():N}",
            currency = "NOK",
            lines = new[] { new { productId = "cola", name = "Cola 0.5 l", quantity = 1, unitPrice = 2500, taxRate = 2500 } },
        });
        Assert.True(created.Status == HttpStatusCode.Created, $"Create answered {(int)created.Status}: {created.Body}");
        return created.Json.GetProperty("reference").GetString()!;
    }

    private static async Task<Answer> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
    }

    private static void AssertProblem(Answer answer, int status, string code, string? field)
    {
        Assert.True((int)answer.Status == status, $"Expected {status}, got {(int)answer.Status}: {answer.Body}");
        Assert.Equal("application/problem+json", answer.MediaType);
        Assert.Equal(code, answer.Json.GetProperty("code").GetString());
        Assert.Equal(status, answer.Json.GetProperty("status").GetInt32());
        Assert.Equal(field, answer.Json.TryGetProperty("field", out var given) && given.ValueKind == JsonValueKind.String ? given.GetString() : null);
        Assert.False(string.IsNullOrEmpty(answer.Json.GetProperty("traceId").GetString()));
    }

    private sealed record Answer(HttpStatusCode Status, string? MediaType, string? RetryAfter, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    }
}
