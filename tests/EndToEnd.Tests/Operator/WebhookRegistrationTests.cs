using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Vending.Core.Storage;
using Vending.Core.Webhooks;
using Vending.Vipps.Webhooks;
using VendingFunctions.Tests.EndToEnd;
using VippsSimulator.Webhooks;
using Xunit.Abstractions;

namespace VendingFunctions.Tests.Operator;

/// <summary><c>POST operator/webhooks/ensure</c> against the simulator's Webhooks API: exactly one registration per
/// merchant for our URL whose secret we hold, found by listing, made when missing, strays and lost ones deleted.</summary>
public sealed class WebhookRegistrationTests(ConfiguredWebhookSecretStack stack, ITestOutputHelper output) : IClassFixture<ConfiguredWebhookSecretStack>
{
    private static readonly string[] MerchantIds = ["mobilepaydk", "vippsno"];

    private string OurUrl => $"{stack.RunnerUrl}api/webhooks/vipps";

    private IVippsWebhooksClient Vipps => stack.VippsWebhooks;

    [Fact]
    public async Task Ensure_keeps_exactly_one_registration_per_merchant_with_a_secret_we_hold()
    {
        // 1. The stack registered one per merchant and configured its secret (as DevStack does): adopted, nothing deleted.
        var first = await EnsureAsync();
        var second = await EnsureAsync();
        foreach (var merchant in MerchantIds)
        {
            Assert.Equal(("kept", "configuration", 0), Outcome(first, merchant));
            Assert.Equal(("kept", "configuration", 0), Outcome(second, merchant));
            Assert.Equal(Id(first, merchant), Id(second, merchant));
            Assert.Equal([Id(first, merchant)], await OursAsync(merchant));
        }

        // 2. A duplicate at our URL (its secret unknown to us) is deleted; someone else's URL is not ours to touch.
        var stray = await Vipps.RegisterAsync("vippsno", OurUrl, WebhookEventTypes.All, CancellationToken.None);
        var foreign = await Vipps.RegisterAsync("vippsno", "http://127.0.0.1:9/elsewhere/webhooks", [WebhookEventTypes.Captured], CancellationToken.None);
        var third = await EnsureAsync();
        Assert.Equal(("kept", "configuration", 1), Outcome(third, "vippsno"));
        Assert.Equal([stray.Id], Deleted(third, "vippsno"));
        Assert.Equal(("kept", "configuration", 0), Outcome(third, "mobilepaydk"));
        Assert.Equal([Id(first, "vippsno")], await OursAsync("vippsno"));
        Assert.Contains(await Vipps.ListAsync("vippsno", CancellationToken.None), w => w.Id == foreign.Id);

        // 3. Ours vanished at Vipps and only a registration whose secret we never had is left: replaced.
        await Vipps.DeleteAsync("vippsno", Id(first, "vippsno"), CancellationToken.None);
        var unknown = await Vipps.RegisterAsync("vippsno", OurUrl, WebhookEventTypes.All, CancellationToken.None);
        var fourth = await EnsureAsync();
        Assert.Equal(("registered", "store", 1), Outcome(fourth, "vippsno"));
        Assert.Equal([unknown.Id], Deleted(fourth, "vippsno"));
        Assert.Equal([Id(fourth, "vippsno")], await OursAsync("vippsno"));
        var stored = await StoredFlagsAsync();
        Assert.True(stored["vippsno"]);
        Assert.False(stored["mobilepaydk"]);

        // 4. The new registration's stored secret verifies its webhooks (the configured one is stale now).
        await AssertWebhooksVerifyAsync(Id(fourth, "vippsno"));

        // 5. Idempotent: nothing to do.
        var fifth = await EnsureAsync();
        Assert.Equal(("kept", "store", 0), Outcome(fifth, "vippsno"));
        Assert.Equal(Id(fourth, "vippsno"), Id(fifth, "vippsno"));

        // 6. The stored secret is lost: the registration is useless to us (and the stale configured secret is never
        //    adopted for it), so it is replaced.
        var table = new TableServiceClient(stack.StorageConnectionString).GetTableClient(TableWebhookRegistrationStore.TableName);
        await table.DeleteEntityAsync(TableWebhookRegistrationStore.Partition, "vippsno");
        var sixth = await EnsureAsync();
        Assert.Equal(("registered", "store", 1), Outcome(sixth, "vippsno"));
        Assert.Equal([Id(fourth, "vippsno")], Deleted(sixth, "vippsno"));
        Assert.Equal([Id(sixth, "vippsno")], await OursAsync("vippsno"));
        Assert.Equal(("kept", "configuration", 0), Outcome(sixth, "mobilepaydk"));
        await AssertWebhooksVerifyAsync(Id(sixth, "vippsno"));

        foreach (var secret in stack.Secrets)
        {
            Assert.DoesNotContain(secret, sixth.GetRawText(), StringComparison.Ordinal);
        }

        output.WriteLine(sixth.GetRawText());
    }

    [Fact]
    public async Task Ensure_refuses_a_body_and_needs_the_function_key()
    {
        var withBody = await stack.Operator.PostAnswerAsync("api/operator/webhooks/ensure", new { force = true });
        Assert.Equal("unknown_field", withBody.AssertStatus(HttpStatusCode.BadRequest).Code);

        using var anonymous = new HttpClient { BaseAddress = stack.RunnerUrl };
        (await anonymous.PostAnswerAsync("api/operator/webhooks/ensure")).AssertStatus(HttpStatusCode.Unauthorized);
    }

    private async Task<Dictionary<string, bool>> StoredFlagsAsync() =>
        (await stack.Operator.GetAnswerAsync("api/operator/merchants")).Json.GetProperty("merchants").EnumerateArray()
            .ToDictionary(m => m.GetProperty("merchantId").GetString()!, m => m.GetProperty("webhookSecretStored").GetBoolean());

    private async Task AssertWebhooksVerifyAsync(Guid registrationId)
    {
        using var machine = await stack.NewMachineAsync("hook");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(), qrFormat: "url")).Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        await ProductStack.WaitUntilAsync(
            () => stack.Simulator.WebhookDeliveries.Snapshot(reference).Any(d =>
                d.RegistrationId == registrationId && d.EventType == WebhookEventTypes.Authorized && d.Status == DeliveryStatus.Delivered
                && d.Attempts.All(a => a.StatusCode == 200)),
            what: "AUTHORIZED delivered to the ensured registration and answered 200 at the first attempt");
        Assert.Equal("Authorized", (await machine.GetAsync(reference)).State);
        (await machine.CancelAsync(reference)).AssertStatus(HttpStatusCode.OK);
    }

    private async Task<JsonElement> EnsureAsync()
    {
        var answer = (await stack.Operator.PostAnswerAsync("api/operator/webhooks/ensure")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(OurUrl, answer.Json.GetProperty("url").GetString());
        Assert.Equal(WebhookEventTypes.All, answer.Json.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        return answer.Json;
    }

    private async Task<List<Guid>> OursAsync(string merchant) =>
        (await Vipps.ListAsync(merchant, CancellationToken.None)).Where(w => w.Url == OurUrl).Select(w => w.Id).ToList();

    private static JsonElement Merchant(JsonElement report, string merchant) =>
        report.GetProperty("merchants").EnumerateArray().Single(m => m.GetProperty("merchantId").GetString() == merchant);

    private static Guid Id(JsonElement report, string merchant) => Merchant(report, merchant).GetProperty("registrationId").GetGuid();

    private static List<Guid> Deleted(JsonElement report, string merchant) =>
        Merchant(report, merchant).GetProperty("deleted").EnumerateArray().Select(d => d.GetGuid()).ToList();

    private static (string, string, int) Outcome(JsonElement report, string merchant)
    {
        var m = Merchant(report, merchant);
        return (m.GetProperty("action").GetString()!, m.GetProperty("secretSource").GetString()!, m.GetProperty("deleted").GetArrayLength());
    }
}
