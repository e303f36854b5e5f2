using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using VendingFunctions.Tests.Contract;
using VendingFunctions.Tests.EndToEnd;
using VendingFunctions.Tests.Operator;
using Xunit.Abstractions;

namespace VendingFunctions.Tests.Hostile;

/// <summary>Hostile input over real HTTP against the whole stack (Azurite, simulator, the Function App under the local Functions host without triggers):
/// thousands of bad requests, forged and replayed webhooks, machines reaching for each other's sales and for operator
/// routes. Nothing may answer 5xx, every refusal is problem+json with a code the API document lists for that route and
/// status, and no sale table changes.</summary>
public sealed class HostileInputTests(QuietStack stack, ITestOutputHelper output) : IClassFixture<QuietStack>
{
    public const int Seed = 20251126;
    public const int RequestCount = 3000;
    private static readonly string[] SaleTables = ["Sales", "OpenSales", "Machines", "UnmatchedWebhooks"];

    [Fact]
    public async Task Three_thousand_bad_requests_answer_problems_never_5xx_and_change_no_sale()
    {
        var targets = await TargetsAsync();
        var requests = new HostileRequests(Seed, targets, maxBodyBytes: 16_384).Generate(RequestCount);
        var before = await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, SaleTables);

        var results = new ConcurrentBag<(HostileRequest Request, int Status, string? ContentType, string Body)>();
        using var http = new HttpClient { BaseAddress = stack.RunnerUrl, Timeout = TimeSpan.FromSeconds(60) };
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (request, ct) =>
        {
            using var message = request.ToMessage();
            using var response = await http.SendAsync(message, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            results.Add((request, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body));
        });

        var after = await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, SaleTables);

        Report(results.Select(r => (r.Request.Endpoint, r.Request.Kind, r.Status)).ToList());
        Assert.Equal(RequestCount, results.Count);
        Assert.DoesNotContain(results, r => r.Status >= 500);
        foreach (var (request, status, contentType, body) in results.Where(r => r.Status is < 200 or >= 300))
        {
            Assert.True(contentType == "application/problem+json", $"{request.Method} {request.Path} ({request.Kind}) answered {status} with {contentType}: {body}");
            using var json = JsonDocument.Parse(body);
            Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
            Assert.Matches("^[a-z][a-z0-9_]*$", json.RootElement.GetProperty("code").GetString());
        }

        // Only reads may succeed: a machine reading its own sale, a create replayed... none of which writes. A correctly
        // signed webhook replayed with a stale or future date is acknowledged too, but only after polling Vipps (its body
        // is not applied): nothing new there, so it is a Duplicate.
        Assert.All(results.Where(r => r.Status is >= 200 and < 300), r =>
        {
            if (r.Request.Kind.StartsWith("replayed:", StringComparison.Ordinal))
            {
                Assert.Contains("\"outcome\":\"Duplicate\"", r.Body, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(HttpMethod.Get, r.Request.Method);
            }
        });
        // Every answer, refusals included, is one docs/openapi.yaml describes for its route and status (codes included).
        var undocumented = results.SelectMany(r => OpenApiDocument.Current.Check(r.Request.Method.Method, r.Request.Path, r.Status, r.ContentType, r.Body)).Distinct().ToList();
        Assert.True(undocumented.Count == 0, string.Join("\n", undocumented.Take(20)));

        Assert.Equal(before, after);
        Assert.NotEmpty(before);
        Assert.DoesNotContain(stack.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task Replayed_and_forged_webhooks_change_nothing_and_an_unknown_reference_is_only_recorded()
    {
        var targets = await TargetsAsync();
        var delivered = stack.Simulator.WebhookDeliveries.Snapshot(targets.OwnSaleA).First(d => d.EventType.EndsWith(".authorized.v1", StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = stack.RunnerUrl };
        var before = await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, SaleTables);

        // The real AUTHORIZED delivery, captured and sent again: within the skew it verifies and is a duplicate ...
        var again = await SendWebhookAsync(http, delivered.Payload, targets.WebhookSecret, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("Duplicate", again.Json.GetProperty("outcome").GetString());
        // ... with its old date it is acknowledged but not trusted: Vipps is polled instead, which has nothing new;
        // signed with a guessed secret, or changed after signing, it is refused.
        var stale = (await SendWebhookAsync(http, delivered.Payload, targets.WebhookSecret, DateTimeOffset.UtcNow.AddMinutes(-6))).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Duplicate", stale.Json.GetProperty("outcome").GetString());
        var captured = delivered.Payload.Replace("AUTHORIZED", "CAPTURED", StringComparison.Ordinal).Replace(delivered.PspReference, "forged-psp-1", StringComparison.Ordinal);
        Assert.Equal("invalid_signature", (await SendWebhookAsync(http, captured, "guessed-secret", DateTimeOffset.UtcNow)).AssertStatus(HttpStatusCode.Unauthorized).Code);
        Assert.Equal("invalid_signature", (await SendWebhookAsync(http, captured, targets.WebhookSecret, DateTimeOffset.UtcNow, signedBody: delivered.Payload)).AssertStatus(HttpStatusCode.Unauthorized).Code);
        Assert.Equal(before, await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, SaleTables));
        Assert.Equal("Authorized", (await stack.Operator.GetAnswerAsync($"api/operator/sales/{targets.OwnSaleA}")).Json.GetProperty("sale").GetProperty("state").GetString());

        // A genuine event for a reference we never made: acknowledged (so Vipps stops), recorded, no sale touched.
        var unknown = $$"""{"msn":"{{targets.Msn}}","reference":"vm-unknown-000001-abcdef","pspReference":"psp-unknown-1","name":"AUTHORIZED","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-26T12:00:00Z","success":true}""";
        var answer = (await SendWebhookAsync(http, unknown, targets.WebhookSecret, DateTimeOffset.UtcNow)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("UnknownReference", answer.Json.GetProperty("outcome").GetString());
        var unmatched = new TableServiceClient(stack.StorageConnectionString).GetTableClient("UnmatchedWebhooks");
        var rows = new List<TableEntity>();
        await foreach (var row in unmatched.QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        var recorded = Assert.Single(rows, r => r.GetString("Reference") == "vm-unknown-000001-abcdef");
        Assert.Equal("vippsno", recorded.PartitionKey);
        Assert.Equal("AUTHORIZED", recorded.GetString("EventName"));
        var saleTables = SaleTables.Where(t => t != "UnmatchedWebhooks").ToArray();
        Assert.Equal(before.Where(r => !r.StartsWith("UnmatchedWebhooks|", StringComparison.Ordinal)), await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, saleTables));
    }

    [Fact]
    public async Task A_machine_cannot_read_vend_or_cancel_another_machines_sale_nor_call_operator_routes()
    {
        var targets = await TargetsAsync();
        using var a = new MachineClient(stack.RunnerUrl, new ProvisionedMachine("a", targets.KeyA));
        var before = await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, SaleTables);

        var answers = new[]
        {
            await a.GetAsync(targets.OwnSaleB),
            await a.LongPollAsync(targets.OwnSaleB, "Created", 1),
            await a.VendAsync(targets.OwnSaleB, "failed"),
            await a.CancelAsync(targets.OwnSaleB),
            await a.GetAsync("vm-nobody-000000-abcdef"),
        };

        foreach (var answer in answers)
        {
            Assert.Equal("sale_not_found", answer.AssertStatus(HttpStatusCode.NotFound).Code);
        }

        // Another machine's sale and no sale at all are indistinguishable.
        Assert.Equal(Without(answers[4].Json, "traceId"), Without(answers[0].Json, "traceId"));

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "api/operator/machines"), (HttpMethod.Get, $"api/operator/sales/{targets.OwnSaleB}"),
            (HttpMethod.Post, $"api/operator/sales/{targets.OwnSaleA}/refunds"), (HttpMethod.Post, "api/operator/machines/a/rotate"),
            (HttpMethod.Get, $"api/operator/sales?machineId=x&code={Uri.EscapeDataString(targets.KeyA)}"),
        })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.TryAddWithoutValidation("x-functions-key", targets.KeyA);
            using var response = await a.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(before, await OperatorCalls.SnapshotAsync(stack.StorageConnectionString, SaleTables));
    }

    [Fact]
    public async Task Without_a_grace_period_a_rotated_key_stops_at_once_and_the_new_one_works()
    {
        using var machine = await stack.NewMachineAsync("rot");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url")).Reference;

        var rotated = (await stack.Operator.PostAnswerAsync($"api/operator/machines/{machine.MachineId}/rotate")).AssertStatus(HttpStatusCode.OK);

        using var renewed = stack.Machine(new ProvisionedMachine(machine.MachineId, rotated.Json.GetProperty("apiKey").GetString()!));
        Assert.Equal("unauthorized", (await machine.GetAsync(reference)).AssertStatus(HttpStatusCode.Unauthorized).Code);
        Assert.Equal("Created", (await renewed.GetAsync(reference)).AssertStatus(HttpStatusCode.OK).State);
        // Rotating twice: the first new key is gone too.
        var again = (await stack.Operator.PostAnswerAsync($"api/operator/machines/{machine.MachineId}/rotate")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, (await renewed.GetAsync(reference)).Status);
        using var latest = stack.Machine(new ProvisionedMachine(machine.MachineId, again.Json.GetProperty("apiKey").GetString()!));
        (await latest.GetAsync(reference)).AssertStatus(HttpStatusCode.OK);
    }

    /// <summary>A with an Authorized sale, B with a Created one, C disabled: made once per stack (the class's tests share them).</summary>
    private async Task<HostileTargets> TargetsAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (Made.TryGetValue(stack, out var made))
            {
                return made;
            }

            using var a = await stack.NewMachineAsync("fuzz-a");
            using var b = await stack.NewMachineAsync("fuzz-b");
            var c = await stack.ProvisionMachineAsync(ProductStack.NewMachineId("fuzz-c"), "mobilepaydk", "DKK");
            (await stack.Operator.PostAnswerAsync($"api/operator/machines/{c.MachineId}/disable")).AssertStatus(HttpStatusCode.OK);
            var saleA = await OperatorCalls.AuthorizedSaleAsync(stack, a);
            var saleB = (await b.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url")).Reference;
            made = new HostileTargets(a.Machine.ApiKey, saleA, b.Machine.ApiKey, saleB, c.ApiKey,
                new Uri($"{stack.RunnerUrl}api/webhooks/vipps"), stack.Settings["Vipps:Merchants:vippsno:WebhookSecret"]!, "100001", ProductStack.FunctionKey);
            Made[stack] = made;
            return made;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly Dictionary<QuietStack, HostileTargets> Made = new();

    private static async Task<ApiAnswer> SendWebhookAsync(HttpClient http, string body, string secret, DateTimeOffset date, string? signedBody = null)
    {
        var url = new Uri(http.BaseAddress!, "api/webhooks/vipps");
        var xMsDate = date.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        var contentHash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(signedBody ?? body)));
        var toSign = $"POST\n{url.PathAndQuery}\n{xMsDate};{url.Authority};{contentHash}";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(toSign)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/webhooks/vipps") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-ms-date", xMsDate);
        request.Headers.TryAddWithoutValidation("x-ms-content-sha256", contentHash);
        request.Headers.TryAddWithoutValidation("Authorization", $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}");
        using var response = await http.SendAsync(request);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers);
    }

    private static string Without(JsonElement json, string property) =>
        string.Join(",", json.EnumerateObject().Where(p => p.Name != property).Select(p => $"{p.Name}={p.Value.GetRawText()}"));

    private void Report(List<(string Endpoint, string Kind, int Status)> results)
    {
        output.WriteLine($"seed {Seed}, {results.Count} requests");
        foreach (var endpoint in results.GroupBy(r => r.Endpoint).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = string.Join(", ", endpoint.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
            output.WriteLine($"{endpoint.Key,-42} {endpoint.Count(),5}   {statuses}");
        }

        output.WriteLine("statuses: " + string.Join(", ", results.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        output.WriteLine("kinds: " + string.Join(", ", results.GroupBy(r => Family(r.Kind)).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));
    }

    // "UTF-8 BOM + lone low surrogate escape in name" counts as "garbage text: lone low surrogate escape".
    private static string Family(string kind)
    {
        var match = System.Text.RegularExpressions.Regex.Match(kind, @"^(signed, )?(UTF-8 BOM \+ )?(?<garbage>.+) in [A-Za-z]+$");
        return match.Success ? $"{match.Groups[1].Value}garbage text: {match.Groups["garbage"].Value}" : kind;
    }
}
