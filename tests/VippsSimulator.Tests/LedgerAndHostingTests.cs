using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using VippsSimulator.Hosting;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

public sealed class LedgerAndHostingTests(SimulatorHarness sim) : IClassFixture<SimulatorHarness>
{
    [Fact]
    public async Task Ledger_shows_money_and_every_operation_with_key_status_and_outcome()
    {
        var reference = await sim.AuthorizedPayment(2500);
        (await sim.Capture(reference, 1000, "cap-1")).AssertStatus(200);
        (await sim.Capture(reference, 2000, "cap-2")).AssertProblem(400, "6090");
        (await sim.Capture(reference, 1000, "cap-1")).AssertStatus(200);

        var entry = (await sim.Http.GetFromJsonAsync<JsonObject>($"{sim.BaseUrl}/_sim/ledger/{reference}"))!;
        var summary = (await sim.Http.GetFromJsonAsync<JsonArray>($"{sim.BaseUrl}/_sim/ledger"))!;

        Assert.Equal("AUTHORIZED", entry["state"]!.GetValue<string>());
        Assert.Equal(2500, entry["authorized"]!.GetValue<long>());
        Assert.Equal(1000, entry["captured"]!.GetValue<long>());
        var captures = entry["operations"]!.AsArray().Where(o => o!["operation"]!.GetValue<string>() == "capture").ToList();
        Assert.Equal(["cap-1", "cap-2", "cap-1"], captures.Select(o => o!["idempotencyKey"]!.GetValue<string>()));
        Assert.Equal([200, 400, 200], captures.Select(o => o!["status"]!.GetValue<int>()));
        Assert.Equal(["ok", "6090", "ok"], captures.Select(o => o!["outcome"]!.GetValue<string>()));
        Assert.Equal([false, false, true], captures.Select(o => o!["replayed"]!.GetValue<bool>()));
        Assert.Contains(summary, s => s!["reference"]!.GetValue<string>() == reference && s["captured"]!.GetValue<long>() == 1000);
    }

    [Fact]
    public async Task Unknown_ledger_reference_is_404()
    {
        using var reply = await sim.Http.GetAsync($"{sim.BaseUrl}/_sim/ledger/{SimulatorHarness.NewReference()}");
        Assert.Equal(404, (int)reply.StatusCode);
    }

    [Fact]
    public async Task Merchants_listing_shows_the_default_test_merchants()
    {
        var merchants = (await sim.Http.GetFromJsonAsync<JsonArray>($"{sim.BaseUrl}/_sim/merchants"))!;

        var vipps = merchants.Single(m => m!["id"]!.GetValue<string>() == TestMerchants.VippsNo.Id)!;
        var mobilePay = merchants.Single(m => m!["id"]!.GetValue<string>() == TestMerchants.MobilePayDk.Id)!;
        Assert.Equal(2, merchants.Count);
        Assert.Equal(TestMerchants.VippsNo.Msn, vipps["merchantSerialNumber"]!.GetValue<string>());
        Assert.True(vipps["targetUrlQrApproved"]!.GetValue<bool>());
        Assert.Equal(["DKK", "EUR"], mobilePay["currencies"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal("MobilePay", mobilePay["brand"]!.GetValue<string>());
        Assert.False(mobilePay["targetUrlQrApproved"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Program_works_with_web_application_factory()
    {
        await using var factory = new WebApplicationFactory<Program>();
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/accesstoken/get");
        request.Headers.Add("client_id", TestMerchants.MobilePayDk.ClientId);
        request.Headers.Add("client_secret", TestMerchants.MobilePayDk.ClientSecret);
        request.Headers.Add("Ocp-Apim-Subscription-Key", TestMerchants.MobilePayDk.SubscriptionKey);

        using var response = await client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
    }
}
