using System.Net;
using System.Text.Json.Nodes;
using Vending.Vipps.Tests.Support;
using Vending.Vipps.Webhooks;

namespace Vending.Vipps.Tests;

public sealed class WebhooksClientTests : IDisposable
{
    private readonly VippsTestContext context = new();

    public void Dispose() => context.Dispose();

    [Fact]
    public async Task Register_posts_url_and_events_and_reads_id_and_secret()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.Created, """{"id":"4a7fd9ac-8b3b-4a9f-9f77-0b0c5a2d1f10","secret":"s3cr3t"}"""));

        var registration = await context.Webhooks.RegisterAsync(
            VippsTestContext.Norway, "https://vending.example.com/api/webhooks/vipps", [WebhookEventTypes.Authorized, WebhookEventTypes.Captured], CancellationToken.None);

        Assert.Equal(new WebhookRegistration(Guid.Parse("4a7fd9ac-8b3b-4a9f-9f77-0b0c5a2d1f10"), "s3cr3t"), registration);
        var call = Assert.Single(context.Handler.ApiRequests);
        Assert.Equal(HttpMethod.Post, call.Method);
        Assert.Equal("/webhooks/v1/webhooks", call.PathAndQuery);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"url":"https://vending.example.com/api/webhooks/vipps","events":["epayments.payment.authorized.v1","epayments.payment.captured.v1"]}"""),
            JsonNode.Parse(call.Body)));
        Assert.Null(call.Header("Idempotency-Key"));
        EPaymentClientTests.AssertCommonHeaders(call, "token-1", "subscription-no", "123456");
    }

    [Fact]
    public async Task List_reads_the_registrations()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.OK, """
            {"webhooks":[{"id":"4a7fd9ac-8b3b-4a9f-9f77-0b0c5a2d1f10","url":"https://vending.example.com/api/webhooks/vipps","events":["epayments.payment.authorized.v1"]}]}
            """));

        var webhooks = await context.Webhooks.ListAsync(VippsTestContext.Denmark, CancellationToken.None);

        var webhook = Assert.Single(webhooks);
        Assert.Equal(Guid.Parse("4a7fd9ac-8b3b-4a9f-9f77-0b0c5a2d1f10"), webhook.Id);
        Assert.Equal("https://vending.example.com/api/webhooks/vipps", webhook.Url);
        Assert.Equal([WebhookEventTypes.Authorized], webhook.Events);
        var call = Assert.Single(context.Handler.ApiRequests);
        Assert.Equal(HttpMethod.Get, call.Method);
        Assert.Equal("/webhooks/v1/webhooks", call.PathAndQuery);
        EPaymentClientTests.AssertCommonHeaders(call, "token-1", "subscription-dk", "654321");
    }

    [Fact]
    public async Task Delete_sends_the_id_and_accepts_204()
    {
        context.Handler.RespondInOrder(() => new HttpResponseMessage(HttpStatusCode.NoContent));
        var id = Guid.Parse("4a7fd9ac-8b3b-4a9f-9f77-0b0c5a2d1f10");

        await context.Webhooks.DeleteAsync(VippsTestContext.Norway, id, CancellationToken.None);

        var call = Assert.Single(context.Handler.ApiRequests);
        Assert.Equal(HttpMethod.Delete, call.Method);
        Assert.Equal("/webhooks/v1/webhooks/4a7fd9ac-8b3b-4a9f-9f77-0b0c5a2d1f10", call.PathAndQuery);
    }

    [Fact]
    public async Task A_rejected_registration_is_a_vipps_error_with_its_status()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.BadRequest, """{"type":"about:blank","title":"Invalid url","status":400,"traceId":"t"}""", "application/problem+json"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() =>
            context.Webhooks.RegisterAsync(VippsTestContext.Norway, "http://localhost/x", [WebhookEventTypes.Authorized], CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("Invalid url", error.Title);
    }
}
