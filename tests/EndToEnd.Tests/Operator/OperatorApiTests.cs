using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using VendingFunctions.Tests.EndToEnd;
using Xunit.Abstractions;

namespace VendingFunctions.Tests.Operator;

/// <summary>The operator routes over real HTTP: the Function App under the local Functions host + Azurite + the Vipps simulator (whose ledger is the truth
/// about money), with the default key rotation grace (24 h).</summary>
public sealed partial class OperatorApiTests(ConfiguredWebhookSecretStack stack, ITestOutputHelper output) : IClassFixture<ConfiguredWebhookSecretStack>
{
    private HttpClient Operator => stack.Operator;

    [Fact]
    public async Task Machines_are_listed_read_rotated_with_a_grace_period_disabled_and_enabled()
    {
        using var machine = await stack.NewMachineAsync("ops");
        var oldKey = machine.Machine.ApiKey;

        var list = (await Operator.GetAnswerAsync("api/operator/machines")).AssertStatus(HttpStatusCode.OK);
        Assert.Contains(list.Json.GetProperty("machines").EnumerateArray(), m => m.GetProperty("machineId").GetString() == machine.MachineId);
        var one = (await Operator.GetAnswerAsync($"api/operator/machines/{machine.MachineId}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("vippsno", one.Json.GetProperty("merchantId").GetString());
        Assert.True(one.Json.GetProperty("enabled").GetBoolean());
        Assert.Equal(["captureMode", "createdAt", "currency", "enabled", "keyRotatedAt", "location", "machineId", "merchantId", "name", "qrFormat"],
            one.Json.EnumerateObject().Select(p => p.Name).Order()); // no key, no hash
        Assert.Equal("machine_not_found", (await Operator.GetAnswerAsync("api/operator/machines/no-such-machine")).AssertStatus(HttpStatusCode.NotFound).Code);
        Assert.Equal("machine_not_found", (await Operator.GetAnswerAsync("api/operator/machines/BAD.ID")).AssertStatus(HttpStatusCode.NotFound).Code);

        var rotated = (await Operator.PostAnswerAsync($"api/operator/machines/{machine.MachineId}/rotate")).AssertStatus(HttpStatusCode.OK);
        var newKey = rotated.Json.GetProperty("apiKey").GetString()!;
        Assert.StartsWith(machine.MachineId + ".", newKey);
        Assert.NotEqual(oldKey, newKey);
        // The key's issue time moves with the rotation; the machine's creation does not.
        var machineAfter = rotated.Json.GetProperty("machine");
        Assert.True(machineAfter.GetProperty("keyRotatedAt").GetDateTimeOffset() > one.Json.GetProperty("keyRotatedAt").GetDateTimeOffset());
        Assert.Equal(one.Json.GetProperty("createdAt").GetDateTimeOffset(), machineAfter.GetProperty("createdAt").GetDateTimeOffset());
        using var renewed = stack.Machine(new ProvisionedMachine(machine.MachineId, newKey));

        // Both keys work within the grace period: a sale created with the old key is read with the new one.
        var sale = (await machine.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url")).Reference;
        (await renewed.GetAsync(sale)).AssertStatus(HttpStatusCode.OK);

        var disabled = (await Operator.PostAnswerAsync($"api/operator/machines/{machine.MachineId}/disable")).AssertStatus(HttpStatusCode.OK);
        Assert.False(disabled.Json.GetProperty("enabled").GetBoolean());
        foreach (var client in new[] { machine, renewed })
        {
            Assert.Equal("unauthorized", (await client.GetAsync(sale)).AssertStatus(HttpStatusCode.Unauthorized).Code);
            Assert.Equal("unauthorized", (await client.CancelAsync(sale)).AssertStatus(HttpStatusCode.Unauthorized).Code);
            Assert.Equal("unauthorized", (await client.VendAsync(sale, "delivered")).AssertStatus(HttpStatusCode.Unauthorized).Code);
            Assert.Equal("unauthorized", (await client.CreateAsync("another", MachineClient.Cola())).AssertStatus(HttpStatusCode.Unauthorized).Code);
        }

        // The disabled machine's sale is untouched by its refused calls.
        Assert.Equal("Created", (await Operator.GetAnswerAsync($"api/operator/sales/{sale}")).Json.GetProperty("sale").GetProperty("state").GetString());

        (await Operator.PostAnswerAsync($"api/operator/machines/{machine.MachineId}/enable")).AssertStatus(HttpStatusCode.OK);
        (await renewed.CancelAsync(sale)).AssertStatus(HttpStatusCode.OK);
        await renewed.WaitForStateAsync(sale, "Cancelled");
        Assert.Equal("machine_not_found", (await Operator.PostAnswerAsync("api/operator/machines/not-there/rotate")).AssertStatus(HttpStatusCode.NotFound).Code);
        Assert.Equal("unknown_field", (await Operator.PostAnswerAsync($"api/operator/machines/{machine.MachineId}/disable", new { enabled = false })).AssertStatus(HttpStatusCode.BadRequest).Code);
    }

    [Fact]
    public async Task A_machine_has_at_most_one_open_sale()
    {
        using var machine = await stack.NewMachineAsync("open");
        var first = (await machine.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url")).Reference;

        var second = await machine.CreateAsync("second-sale", MachineClient.Cola(), qrFormat: "url");

        Assert.Equal("open_sale_exists", second.AssertStatus(HttpStatusCode.Conflict).Code);
        (await machine.CancelAsync(first)).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(first, "Cancelled");
        (await machine.CreateAsync("second-sale", MachineClient.Cola(), qrFormat: "url")).AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Merchants_are_listed_without_any_secret()
    {
        var answer = (await Operator.GetAnswerAsync("api/operator/merchants")).AssertStatus(HttpStatusCode.OK);

        var merchants = answer.Json.GetProperty("merchants").EnumerateArray().ToDictionary(m => m.GetProperty("merchantId").GetString()!);
        Assert.Equal(["mobilepaydk", "vippsno"], merchants.Keys.Order());
        Assert.Equal("100001", merchants["vippsno"].GetProperty("merchantSerialNumber").GetString());
        Assert.Equal("Vipps", merchants["vippsno"].GetProperty("brand").GetString());
        Assert.Equal("targetUrl", merchants["vippsno"].GetProperty("qrApproval").GetString());
        Assert.Equal("image", merchants["mobilepaydk"].GetProperty("qrApproval").GetString());
        Assert.Equal(["DKK", "EUR"], merchants["mobilepaydk"].GetProperty("currencies").EnumerateArray().Select(c => c.GetString()));
        Assert.True(merchants["vippsno"].GetProperty("webhookSecretConfigured").GetBoolean());
        foreach (var secret in stack.Secrets)
        {
            Assert.DoesNotContain(secret, answer.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sales_are_listed_newest_first_in_pages_from_the_machine_index()
    {
        using var machine = await stack.NewMachineAsync("list");
        var references = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var reference = (await machine.CreateSaleAsync(MachineClient.Cola(1000 + i), qrFormat: "url")).Reference;
            references.Add(reference);
            (await machine.CancelAsync(reference)).AssertStatus(HttpStatusCode.OK);
            await machine.WaitForStateAsync(reference, "Cancelled");
        }

        var page1 = (await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}&pageSize=2")).AssertStatus(HttpStatusCode.OK);
        var token = page1.Json.GetProperty("continuationToken").GetString();
        var page2 = (await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}&pageSize=2&continuationToken={token}")).AssertStatus(HttpStatusCode.OK);

        Assert.Equal([references[2], references[1]], Refs(page1));
        Assert.Equal([references[0]], Refs(page2));
        Assert.False(page2.Json.TryGetProperty("continuationToken", out _));

        // A time between the second and the third sale (each created after the previous one was cancelled and settled).
        var second = await CreatedAtAsync(references[1]);
        var third = await CreatedAtAsync(references[2]);
        var between = Uri.EscapeDataString((second + (third - second) / 2).ToString("O"));
        var since = (await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}&from={between}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([references[2]], Refs(since));
        var until = (await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}&to={between}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([references[1], references[0]], Refs(until));
        Assert.Empty(Refs((await Operator.GetAnswerAsync("api/operator/sales?machineId=nobody-here")).AssertStatus(HttpStatusCode.OK)));
        // Without a machine: all machines' sales from the day listing, newest first (other tests' sales interleave).
        // The listings are keyed by the claim time, a moment before the sale record's createdAt.
        var firstCreated = Uri.EscapeDataString((await CreatedAtAsync(references[0])).AddSeconds(-1).ToString("O"));
        var fleet = Refs((await Operator.GetAnswerAsync($"api/operator/sales?from={firstCreated}&pageSize=100")).AssertStatus(HttpStatusCode.OK));
        Assert.Equal([references[2], references[1], references[0]], fleet.Where(references.Contains));
        var sameMachineByState = Refs((await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}&state=Cancelled")).AssertStatus(HttpStatusCode.OK));
        Assert.Equal([references[2], references[1], references[0]], sameMachineByState);

        foreach (var (query, field) in new[]
        {
            ("state=Nope", "state"), ("state=Captured&from=2025-01-01T00:00:00Z&to=2025-06-01T00:00:00Z", "from"), ("machineId=a.b", "machineId"), ($"machineId={machine.MachineId}&pageSize=0", "pageSize"),
            ($"machineId={machine.MachineId}&pageSize=101", "pageSize"), ($"machineId={machine.MachineId}&continuationToken=bm9wZQ", "continuationToken"),
            ($"machineId={machine.MachineId}&from=yesterday", "from"), ($"machineId={machine.MachineId}&from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "from"),
            ($"machineId={machine.MachineId}&machineId=x", "machineId"),
        })
        {
            var refused = (await Operator.GetAnswerAsync($"api/operator/sales?{query}")).AssertStatus(HttpStatusCode.BadRequest);
            Assert.Equal(field, refused.Json.GetProperty("field").GetString());
        }

        Assert.Equal("unknown_field", (await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}&orderBy=x")).AssertStatus(HttpStatusCode.BadRequest).Code);
    }

    [Fact]
    public async Task Refunds_go_through_vipps_partially_then_fully_never_above_what_was_captured()
    {
        using var machine = await stack.NewMachineAsync("refund");
        var reference = await OperatorCalls.CapturedSaleAsync(stack, machine, unitPrice: 2500);
        Assert.Equal(2500, stack.Simulator.Ledger.Find(reference)!.Captured);

        var detail = (await Operator.GetAnswerAsync($"api/operator/sales/{reference}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Captured", detail.Json.GetProperty("sale").GetProperty("state").GetString());
        Assert.Contains(detail.Json.GetProperty("history").EnumerateArray(), h => h.GetProperty("state").GetString() == "Captured");

        var tooMuch = await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 2501, requestId = "r-too-much" });
        Assert.Equal("refund_exceeds_captured", tooMuch.AssertStatus(HttpStatusCode.BadRequest).Code);

        (await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 1000, requestId = "r-1" })).AssertStatus(HttpStatusCode.Accepted);
        await SaleAsync(reference, s => s.GetProperty("state").GetString() == "Captured" && s.GetProperty("refundedAmount").GetInt64() == 1000);
        // The same request again is the same refund, not a second one.
        (await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 1000, requestId = "r-1" })).AssertStatus(HttpStatusCode.Accepted);
        Assert.Equal("refund_exceeds_captured",
            (await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 1501, requestId = "r-2" })).AssertStatus(HttpStatusCode.BadRequest).Code);

        (await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 1500, requestId = "r-3" })).AssertStatus(HttpStatusCode.Accepted);
        await SaleAsync(reference, s => s.GetProperty("state").GetString() == "Refunded" && s.GetProperty("refundedAmount").GetInt64() == 2500);
        var after = (await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 1, requestId = "r-4" })).AssertStatus(HttpStatusCode.Conflict);
        Assert.Equal("refund_not_allowed", after.Code);

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(2500, ledger.Refunded);
        Assert.Equal(ledger.Captured, ledger.Refunded);
        Assert.Equal([1000L, 1500L], ledger.Operations.Where(o => o.Operation == "refund" && o.Outcome == "ok" && !o.Replayed).Select(o => o.Amount ?? 0));
        Assert.Equal("sale_not_found", (await Operator.PostAnswerAsync("api/operator/sales/no-such-sale-1/refunds", new { amount = 1, requestId = "x" })).AssertStatus(HttpStatusCode.NotFound).Code);
    }

    [Fact]
    public async Task Reconciliation_lists_a_sale_that_failed_with_its_code()
    {
        using var machine = await stack.NewMachineAsync("recon");
        // The simulator refuses any refund of a 123 payment with 5100 (a test trigger): a permanent refusal.
        var reference = await OperatorCalls.CapturedSaleAsync(stack, machine, unitPrice: 123);
        (await Operator.PostAnswerAsync($"api/operator/sales/{reference}/refunds", new { amount = 123, requestId = "doomed" })).AssertStatus(HttpStatusCode.Accepted);
        var failed = await SaleAsync(reference, s => s.GetProperty("state").GetString() == "Failed");

        var report = (await Operator.GetAnswerAsync("api/operator/reconciliation")).AssertStatus(HttpStatusCode.OK);

        var item = report.Json.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("reference").GetString() == reference);
        Assert.Equal("failed", item.GetProperty("reason").GetString());
        Assert.Equal(failed.GetProperty("failureCode").GetString(), item.GetProperty("failureCode").GetString());
        Assert.StartsWith("vipps_", item.GetProperty("failureCode").GetString());
        Assert.Equal(0, stack.Simulator.Ledger.Find(reference)!.Refunded);
        Assert.Equal("lookback", (await Operator.GetAnswerAsync("api/operator/reconciliation?lookback=0")).AssertStatus(HttpStatusCode.BadRequest).Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task No_secret_appears_in_the_logs_of_a_full_sale_nor_in_any_answer_but_the_key_handouts()
    {
        var answers = new List<string>();
        using var machine = await stack.NewMachineAsync("secret");
        var created = await machine.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url");
        answers.Add(created.Text);
        Assert.Null(stack.Simulator.Approve(created.Reference));
        answers.Add((await machine.WaitForStateAsync(created.Reference, "Authorized")).Text);
        answers.Add((await machine.VendAsync(created.Reference, "delivered")).Text);
        answers.Add((await machine.WaitForStateAsync(created.Reference, "Captured")).Text);
        answers.Add((await Operator.PostAnswerAsync($"api/operator/sales/{created.Reference}/refunds", new { amount = 500, requestId = "s-1" })).Text);
        answers.Add((await SaleAsync(created.Reference, s => s.GetProperty("refundedAmount").GetInt64() == 500)).GetRawText());
        answers.Add((await Operator.GetAnswerAsync($"api/operator/sales/{created.Reference}")).Text);
        answers.Add((await Operator.GetAnswerAsync("api/operator/merchants")).Text);
        answers.Add((await Operator.GetAnswerAsync("api/operator/machines")).Text);
        answers.Add((await Operator.GetAnswerAsync($"api/operator/machines/{machine.MachineId}")).Text);
        answers.Add((await Operator.GetAnswerAsync($"api/operator/sales?machineId={machine.MachineId}")).Text);
        answers.Add((await Operator.PostAnswerAsync("api/operator/webhooks/ensure")).Text);
        answers.Add((await machine.GetAsync("bad reference!")).Text);
        answers.Add((await new HttpClient { BaseAddress = stack.RunnerUrl }.GetAnswerAsync("api/operator/machines")).Text);

        var secrets = stack.Secrets.Concat([machine.Machine.ApiKey]).ToList();
        Assert.Contains(stack.Settings["Vipps:Merchants:vippsno:WebhookSecret"]!, secrets);
        foreach (var name in new[] { "ClientSecret", "SubscriptionKey" })
        {
            Assert.Contains(SampleSetting($"Vipps__Merchants__vippsno__{name}"), secrets);
            Assert.Contains(SampleSetting($"Vipps__Merchants__mobilepaydk__{name}"), secrets);
        }
        // Every line of every instance's log file, not only the records: a secret written anywhere there is found.
        Assert.NotEmpty(stack.Logs.Entries);
        var lines = stack.Logs.Lines;
        output.WriteLine($"{lines.Count} log lines and {answers.Count} answers checked against {secrets.Count} secrets");
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(answers, a => a.Contains(secret, StringComparison.Ordinal));
        }

        // Access tokens are JWT-shaped (the pattern is checked on a real one from the simulator): none may be logged or answered.
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, $"{stack.Simulator.BaseUrl}/accesstoken/get");
        tokenRequest.Headers.Add("client_id", SampleSetting("Vipps__Merchants__vippsno__ClientId"));
        tokenRequest.Headers.Add("client_secret", SampleSetting("Vipps__Merchants__vippsno__ClientSecret"));
        tokenRequest.Headers.Add("Ocp-Apim-Subscription-Key", SampleSetting("Vipps__Merchants__vippsno__SubscriptionKey"));
        tokenRequest.Headers.Add("Merchant-Serial-Number", "100001");
        using var tokenClient = new HttpClient();
        using var tokenResponse = await tokenClient.SendAsync(tokenRequest);
        var token = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        Assert.Matches(Jwt(), token);
        Assert.DoesNotContain(stack.Logs.Lines, l => Jwt().IsMatch(l));
        Assert.DoesNotContain(answers, a => Jwt().IsMatch(a));
    }

    private async Task<DateTimeOffset> CreatedAtAsync(string reference) =>
        (await Operator.GetAnswerAsync($"api/operator/sales/{reference}")).Json.GetProperty("sale").GetProperty("createdAt").GetDateTimeOffset();

    private static List<string> Refs(ApiAnswer page) =>
        page.Json.GetProperty("sales").EnumerateArray().Select(s => s.GetProperty("reference").GetString()!).ToList();

    private async Task<JsonElement> SaleAsync(string reference, Func<JsonElement, bool> condition)
    {
        JsonElement sale = default;
        await ProductStack.WaitUntilAsync(async () =>
        {
            sale = (await Operator.GetAnswerAsync($"api/operator/sales/{reference}")).AssertStatus(HttpStatusCode.OK).Json.GetProperty("sale");
            return condition(sale);
        }, what: $"sale {reference} as expected");
        return sale;
    }

    private static string SampleSetting(string name)
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(Vending.Testing.Azurite.RepositoryRoot(), "local.settings.sample.json")));
        return sample.RootElement.GetProperty("Values").GetProperty(name).GetString()!;
    }

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")]
    private static partial Regex Jwt();
}
