using VippsSimulator.Tests.Support;
using VippsSimulator.Webhooks;

namespace VippsSimulator.Tests;

/// <summary>The Webhooks v1 API itself, with Vipps' defaults: https only. No payments here, so nothing is delivered.</summary>
public sealed class WebhookRegistrationTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = SimulatorHarness.With(new Dictionary<string, string?>());
    private static OpenApiSchema Spec => OpenApiSchema.Webhooks.Value;

    public Task InitializeAsync() => _sim.InitializeAsync();
    public Task DisposeAsync() => _sim.DisposeAsync();

    [Fact]
    public async Task Register_list_and_delete_follow_the_spec()
    {
        var registered = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = "https://example.com/hook", events = new[] { "epayments.payment.authorized.v1" } });
        var id = registered.Json["id"]!.GetValue<string>();
        var listed = await _sim.Call(HttpMethod.Get, "/webhooks/v1/webhooks");
        var otherMerchant = await _sim.Call(HttpMethod.Get, "/webhooks/v1/webhooks", mobilePay: true);
        var deleted = await _sim.Call(HttpMethod.Delete, $"/webhooks/v1/webhooks/{id}");
        var deletedAgain = await _sim.Call(HttpMethod.Delete, $"/webhooks/v1/webhooks/{id}");
        var afterDelete = await _sim.Call(HttpMethod.Get, "/webhooks/v1/webhooks");

        registered.AssertStatus(201);
        Assert.Empty(Spec.CheckResponse("/v1/webhooks", "post", 201, registered.Body));
        listed.AssertStatus(200);
        Assert.Empty(Spec.CheckResponse("/v1/webhooks", "get", 200, listed.Body));
        Assert.Contains(id, listed.Body);
        Assert.DoesNotContain(id, otherMerchant.Body);
        deleted.AssertStatus(204);
        deletedAgain.AssertStatus(404);
        Assert.Empty(Spec.Check(Spec.Component("ProblemDetails"), deletedAgain.Body));
        Assert.DoesNotContain(id, afterDelete.Body);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("not a url")]
    [InlineData("ftp://example.com/hook")]
    public async Task Only_https_urls_are_accepted_by_default(string url)
    {
        var reply = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url, events = new[] { "epayments.payment.created.v1" } });

        reply.AssertStatus(400);
        Assert.Empty(Spec.CheckResponse("/v1/webhooks", "post", 400, reply.Body));
    }

    [Fact]
    public async Task Unknown_event_types_and_unknown_fields_are_rejected()
    {
        var badEvent = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = "https://example.com/a", events = new[] { "epayments.payment.teleported.v1" } });
        var extraField = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = "https://example.com/a", events = new[] { "epayments.payment.created.v1" }, secret = "mine" });

        badEvent.AssertStatus(400);
        extraField.AssertStatus(400);
        Assert.Empty(Spec.CheckResponse("/v1/webhooks", "post", 400, extraField.Body));
    }

    [Fact]
    public async Task At_most_25_registrations_per_event_type_per_merchant()
    {
        for (var i = 0; i < 25; i++)
            (await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = $"https://example.com/{i}", events = WebhookRegistry.PaymentEvents }, mobilePay: true)).AssertStatus(201);

        var twentySixth = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = "https://example.com/26", events = new[] { "epayments.payment.created.v1" } }, mobilePay: true);
        var otherMerchant = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = "https://example.com/26", events = new[] { "epayments.payment.created.v1" } });

        twentySixth.AssertStatus(400);
        otherMerchant.AssertStatus(201);
    }
}
