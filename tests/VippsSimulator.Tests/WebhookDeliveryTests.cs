using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Tests.Support;
using VippsSimulator.Webhooks;

namespace VippsSimulator.Tests;

/// <summary>Signed delivery, order per payment, retries, timeouts, duplicates and drops. A simulator and receiver per test.</summary>
public sealed class WebhookDeliveryTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = SimulatorHarness.With(Settings());
    private WebhookReceiver _receiver = null!;

    private static Dictionary<string, string?> Settings()
    {
        var settings = SimulatorHarness.FastSettings();
        settings["Simulator:Webhooks:MaxAttempts"] = "100000";
        // Generous, so a slow machine never turns an answered attempt into a timed-out one (the receiver would see it twice).
        settings["Simulator:Webhooks:TimeoutSeconds"] = "5";
        return settings;
    }

    public async Task InitializeAsync()
    {
        await _sim.InitializeAsync();
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _sim.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task<(Uri Url, string Secret)> Register(string pathAndQuery = "/api/webhooks/vipps", bool mobilePay = false)
    {
        var url = new Uri($"{_receiver.Url}{pathAndQuery}");
        var reply = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = url.ToString(), events = WebhookRegistry.PaymentEvents }, mobilePay: mobilePay);
        reply.AssertStatus(201);
        return (url, reply.Json["secret"]!.GetValue<string>());
    }

    private static string[] Names(IEnumerable<ReceivedWebhook> webhooks) => webhooks.Select(w => w.Name).ToArray();

    [Fact]
    public async Task Every_event_arrives_signed_as_documented_with_the_documented_payload()
    {
        var (url, secret) = await Register("/api/webhooks/vipps?merchant=vipps-no");
        var reference = await _sim.AuthorizedPayment();
        (await _sim.Capture(reference, 2500, "capture-key")).AssertStatus(200);

        var received = await Eventually.Until(() => _receiver.For(reference), r => r.Count >= 3, "three webhooks");

        Assert.Equal(["CREATED", "AUTHORIZED", "CAPTURED"], Names(received));
        var schema = OpenApiSchema.EPayment.Value;
        foreach (var webhook in received)
        {
            DocumentedSignature.AssertValid(webhook, url, secret);
            Assert.Equal("/api/webhooks/vipps?merchant=vipps-no", webhook.PathAndQuery);
            Assert.Equal("application/json", webhook.Headers["Content-Type"]);
            Assert.Empty(schema.Check(schema.Component("WebhookEvent"), System.Text.Encoding.UTF8.GetString(webhook.Body)));
            Assert.Equal(TestMerchants.VippsNo.Msn, webhook.Json["msn"]!.GetValue<string>());
            Assert.True(webhook.Json["success"]!.GetValue<bool>());
        }
        Assert.Equal("capture-key", received[2].Json["idempotencyKey"]!.GetValue<string>());
        var events = (await _sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}/events")).Json.AsArray();
        Assert.Equal(events.Select(e => e!["pspReference"]!.GetValue<string>()), received.Select(w => w.Json["pspReference"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_failing_event_is_retried_and_holds_back_later_events_of_its_payment_only()
    {
        await Register();
        var held = SimulatorHarness.NewReference("held");
        var holdAuthorized = true;
        _receiver.Answer = json =>
            holdAuthorized && json["reference"]!.GetValue<string>() == held && json["name"]!.GetValue<string>() == "AUTHORIZED" ? 500 : 200;
        (await _sim.Create(SimulatorHarness.QrPayment(held))).AssertStatus(201);
        Assert.Null(_sim.Simulator.Approve(held));
        (await _sim.Capture(held, 2500)).AssertStatus(200);
        await Eventually.Until(() => _receiver.For(held).Count(w => w.AnsweredStatus == 500), n => n >= 2, "two failed AUTHORIZED attempts");

        var other = await _sim.AuthorizedPayment();
        await Eventually.Until(() => _receiver.For(other), r => r.Count >= 2, "the other payment's webhooks");
        Assert.DoesNotContain(_receiver.For(held), w => w.Name == "CAPTURED");

        holdAuthorized = false;
        var delivered = await Eventually.Until(() => _receiver.For(held).Where(w => w.AnsweredStatus == 200).ToList(), r => r.Count >= 3, "the held payment's webhooks");

        Assert.Equal(["CREATED", "AUTHORIZED", "CAPTURED"], Names(delivered));
        var log = _sim.Simulator.WebhookDeliveries.Snapshot(held);
        var authorized = Assert.Single(log, d => d.EventType == "epayments.payment.authorized.v1");
        Assert.Equal(DeliveryStatus.Delivered, authorized.Status);
        Assert.True(authorized.Attempts.Count >= 3);
        Assert.Equal(200, authorized.Attempts[^1].StatusCode);
    }

    [Fact]
    public async Task An_unanswered_attempt_times_out_and_is_retried()
    {
        await Register();
        var slowOnce = 1;
        _receiver.Delay = json => json["name"]!.GetValue<string>() == "CREATED" && Interlocked.Exchange(ref slowOnce, 0) == 1 ? TimeSpan.FromSeconds(60) : TimeSpan.Zero;
        var reference = SimulatorHarness.NewReference();
        (await _sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);

        var created = await Eventually.Until(() => _sim.Simulator.WebhookDeliveries.Snapshot(reference).Single(),
            d => d.Status == DeliveryStatus.Delivered, "the CREATED webhook after a timeout");

        Assert.Null(created.Attempts[0].StatusCode);
        Assert.Contains("No answer", created.Attempts[0].Error);
        Assert.Equal(200, created.Attempts[^1].StatusCode);
    }

    [Fact]
    public async Task Duplicate_fault_delivers_an_event_twice_with_the_same_psp_reference()
    {
        await Register(mobilePay: true);
        _sim.Simulator.Faults.Add(new FaultSettings { Seed = 1, Webhooks = { new WebhookFaultRule { Msn = TestMerchants.MobilePayDk.Msn, DuplicateRate = 1 } } });
        var reference = SimulatorHarness.NewReference();
        (await _sim.Create(SimulatorHarness.QrPayment(reference, 1000, "DKK"), mobilePay: true)).AssertStatus(201);

        var received = await Eventually.Until(() => _receiver.For(reference), r => r.Count >= 2, "the duplicate");

        Assert.Equal(["CREATED", "CREATED"], Names(received));
        Assert.Equal(received[0].Json["pspReference"]!.ToString(), received[1].Json["pspReference"]!.ToString());
        Assert.Single(_sim.Simulator.WebhookDeliveries.Snapshot(reference), d => d.Duplicate);
    }

    [Fact]
    public async Task Dropped_event_is_never_sent_and_does_not_hold_back_the_next()
    {
        await Register();
        using (var faults = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults", new { webhooks = new[] { new { dropRate = 1.0 } } }))
            Assert.Equal(200, (int)faults.StatusCode);
        var reference = SimulatorHarness.NewReference();
        (await _sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);
        using (var reset = await _sim.Http.DeleteAsync($"{_sim.BaseUrl}/_sim/faults"))
            Assert.Equal(204, (int)reset.StatusCode);
        Assert.Null(_sim.Simulator.Approve(reference));

        var received = await Eventually.Until(() => _receiver.For(reference), r => r.Count >= 1, "the AUTHORIZED webhook");

        // Per-payment order: had CREATED been sent at all, it would have arrived before AUTHORIZED.
        Assert.Equal(["AUTHORIZED"], Names(received));
        var deliveries = (await _sim.Http.GetFromJsonAsync<JsonArray>($"{_sim.BaseUrl}/_sim/webhooks/deliveries?reference={reference}"))!;
        Assert.Equal("Dropped", deliveries.Single(d => d!["eventType"]!.GetValue<string>() == "epayments.payment.created.v1")!["status"]!.GetValue<string>());
        Assert.Empty(deliveries.Single(d => d!["eventType"]!.GetValue<string>() == "epayments.payment.created.v1")!["attempts"]!.AsArray());
    }

    [Fact]
    public async Task Only_subscribed_events_of_the_registration_merchant_are_sent()
    {
        var reply = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = $"{_receiver.Url}/only-captured", events = new[] { "epayments.payment.captured.v1" } });
        reply.AssertStatus(201);
        var reference = await _sim.AuthorizedPayment();
        (await _sim.Create(SimulatorHarness.QrPayment(SimulatorHarness.NewReference(), 1000, "DKK"), mobilePay: true)).AssertStatus(201);
        (await _sim.Capture(reference, 100)).AssertStatus(200);

        var received = await Eventually.Until(() => _receiver.Received, r => r.Count >= 1, "the CAPTURED webhook");

        Assert.Equal(["CAPTURED"], Names(received));
        Assert.All(_sim.Simulator.WebhookDeliveries.Snapshot(), d => Assert.Equal("epayments.payment.captured.v1", d.EventType));
    }
}
