using VippsSimulator.Faults;
using VippsSimulator.Tests.Support;
using VippsSimulator.Webhooks;

namespace VippsSimulator.Tests;

/// <summary>
/// Which <c>x-ms-date</c> a retried webhook carries. Vipps does not document it, so the simulator re-signs every
/// attempt by default and a knob makes retries keep the first attempt's date. The inner clock is manual: the receiver
/// moves it ten minutes while answering the first attempt, as if the retry came ten minutes later.
/// </summary>
public sealed class WebhookRetryDateTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private readonly SimulatorHarness _sim;
    private WebhookReceiver _receiver = null!;

    public WebhookRetryDateTests()
    {
        var settings = SimulatorHarness.FastSettings();
        settings["Simulator:Webhooks:TimeoutSeconds"] = "5";
        _sim = SimulatorHarness.With(settings, _clock);
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

    private async Task<(Uri Url, string Secret)> Register()
    {
        var url = new Uri($"{_receiver.Url}/api/webhooks/vipps");
        var reply = await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = url.ToString(), events = WebhookRegistry.PaymentEvents });
        reply.AssertStatus(201);
        return (url, reply.Json["secret"]!.GetValue<string>());
    }

    /// <summary>Fails the first CREATED delivery of <paramref name="reference"/> and moves the clock ten minutes while doing so.</summary>
    private void FailFirstCreatedTenMinutesAgo(string reference)
    {
        var failed = 0;
        _receiver.Answer = json =>
        {
            if (json["reference"]!.GetValue<string>() != reference || json["name"]!.GetValue<string>() != "CREATED") return 200;
            if (Interlocked.Increment(ref failed) > 1) return 200;
            _clock.Advance(TimeSpan.FromMinutes(10));
            return 500;
        };
    }

    private async Task<IReadOnlyList<ReceivedWebhook>> TwoCreatedAttempts(string reference)
    {
        (await _sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);
        return await Eventually.Until(() => _receiver.For(reference).Where(w => w.Name == "CREATED").ToList(), r => r.Count >= 2, "the CREATED retry");
    }

    [Fact]
    public async Task By_default_a_retry_is_signed_with_a_fresh_date()
    {
        var (url, secret) = await Register();
        var reference = SimulatorHarness.NewReference("fresh");
        FailFirstCreatedTenMinutesAgo(reference);

        var attempts = await TwoCreatedAttempts(reference);

        Assert.Equal(Start.ToString("R"), attempts[0].Headers["x-ms-date"]);
        Assert.Equal(Start.AddMinutes(10).ToString("R"), attempts[1].Headers["x-ms-date"]);
        DocumentedSignature.AssertValid(attempts[1], url, secret);
    }

    [Fact]
    public async Task With_the_knob_a_retry_keeps_the_first_attempt_s_date_and_a_valid_signature()
    {
        var (url, secret) = await Register();
        _sim.Simulator.Faults.Add(new FaultSettings { Webhooks = { new WebhookFaultRule { RetriesKeepFirstDate = true } } });
        var reference = SimulatorHarness.NewReference("stale");
        FailFirstCreatedTenMinutesAgo(reference);

        var attempts = await TwoCreatedAttempts(reference);

        Assert.Equal(Start.ToString("R"), attempts[0].Headers["x-ms-date"]);
        Assert.Equal(Start.ToString("R"), attempts[1].Headers["x-ms-date"]);
        DocumentedSignature.AssertValid(attempts[1], url, secret);
    }

    [Fact]
    public async Task Lost_attempts_never_reach_the_receiver_and_the_retry_carries_the_lost_attempt_s_date()
    {
        var (url, secret) = await Register();
        _sim.Simulator.Faults.Add(new FaultSettings { Webhooks = { new WebhookFaultRule { LostAttempts = 1, RetriesKeepFirstDate = true } } });
        var reference = SimulatorHarness.NewReference("lost");

        (await _sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);
        var delivered = await Eventually.Until(() => _sim.Simulator.WebhookDeliveries.Snapshot(reference),
            d => d.Count == 1 && d[0].Status == DeliveryStatus.Delivered, "the CREATED delivery");

        var received = Assert.Single(_receiver.For(reference));
        Assert.Equal(2, delivered[0].Attempts.Count);
        Assert.Equal(WebhookDispatcher.LostByFault, delivered[0].Attempts[0].Error);
        Assert.Null(delivered[0].Attempts[0].StatusCode);
        Assert.Equal(200, delivered[0].Attempts[1].StatusCode);
        Assert.Equal(delivered[0].Attempts[0].At.ToString("R"), received.Headers["x-ms-date"]);
        DocumentedSignature.AssertValid(received, url, secret);
    }
}
