using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Http;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

/// <summary>
/// The knobs that make the simulator as strict as Vipps where a forgiving simulator hid money bugs: refused
/// credentials (401/403), outages (503) limited in time, a key used again while its first request is in flight (409),
/// and <c>Retry-After</c> on 429. A fresh simulator per test.
/// </summary>
public sealed class StrictFaultTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = new();

    public Task InitializeAsync() => _sim.InitializeAsync();
    public Task DisposeAsync() => _sim.DisposeAsync();

    private Task<HttpResponseMessage> VippsNoToken() =>
        _sim.RequestToken(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey);

    private Task<HttpResponseMessage> MobilePayToken() =>
        _sim.RequestToken(TestMerchants.MobilePayDk.ClientId, TestMerchants.MobilePayDk.ClientSecret, TestMerchants.MobilePayDk.SubscriptionKey);

    private static async Task AssertGatewayKeyRefused(HttpResponseMessage response)
    {
        Assert.Equal(401, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(401, body["statusCode"]!.GetValue<int>());
        Assert.Equal(VippsRequestPipeline.GatewayKeyRefused, body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refused_credentials_on_the_token_endpoint_hit_only_the_chosen_merchant()
    {
        _sim.Simulator.Faults.Add(new FaultSettings { Rules = { new FaultRule { Endpoint = "token", Msn = TestMerchants.VippsNo.Msn, Status = 401 } } });

        using var refused = await VippsNoToken();
        using var other = await MobilePayToken();

        await AssertGatewayKeyRefused(refused);
        Assert.Equal(200, (int)other.StatusCode);
    }

    [Fact]
    public async Task Refused_credentials_on_epayment_leave_the_token_endpoint_working_and_change_nothing()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        var token = await _sim.Token();
        using var posted = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults",
            new { rules = new[] { new { endpoint = "epayment", msn = TestMerchants.VippsNo.Msn, status = 401 } } });
        Assert.Equal(200, (int)posted.StatusCode);

        using var capture = new HttpRequestMessage(HttpMethod.Post, $"{_sim.BaseUrl}/epayment/v1/payments/{reference}/capture")
        {
            Content = JsonContent.Create(SimulatorHarness.Modification(2500, "NOK")),
        };
        capture.Headers.Authorization = new("Bearer", token);
        capture.Headers.Add("Ocp-Apim-Subscription-Key", TestMerchants.VippsNo.SubscriptionKey);
        capture.Headers.Add("Merchant-Serial-Number", TestMerchants.VippsNo.Msn);
        capture.Headers.Add("Idempotency-Key", "refused-capture");
        using var refused = await _sim.Http.SendAsync(capture);
        using var freshToken = await VippsNoToken();
        var otherMerchant = await _sim.Call(HttpMethod.Post, "/epayment/v1/payments",
            SimulatorHarness.QrPayment(SimulatorHarness.NewReference(), 2500, "DKK").ToJsonString(), "dk-create", mobilePay: true);

        await AssertGatewayKeyRefused(refused);
        Assert.Equal(200, (int)freshToken.StatusCode);
        otherMerchant.AssertStatus(201);
        Assert.Equal(0, _sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Forbidden_and_unavailable_answer_problem_bodies_and_do_nothing()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.FailNext("capture", reference, 1, status: 403);
        _sim.Simulator.Faults.FailNext("cancel", reference, 1, status: 503);

        var forbidden = await _sim.Capture(reference, 1000, "k1");
        var unavailable = await _sim.Cancel(reference, key: "c1");

        forbidden.AssertProblem(403, null);
        unavailable.AssertProblem(503, null);
        Assert.Equal(503, unavailable.Json["status"]!.GetValue<int>());
        var schema = OpenApiSchema.EPayment.Value;
        Assert.Empty(schema.Check(schema.Component("Problem"), forbidden.Body));
        Assert.Empty(schema.Check(schema.Component("Problem"), unavailable.Body));
        var ledger = _sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(0, ledger.Captured);
        Assert.Equal(0, ledger.Cancelled);
    }

    [Fact]
    public async Task An_outage_window_ends_by_itself_after_for_seconds()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.Add(new FaultSettings
        {
            Rules = { new FaultRule { Endpoint = "capture", Status = 503, ForSeconds = 90 } },
        });

        var during = await _sim.Capture(reference, 1000, "outage-key");
        var listedDuring = _sim.Simulator.Faults.Snapshot().Rules;
        _sim.Simulator.AdvanceClock(TimeSpan.FromSeconds(89));
        var stillDuring = await _sim.Capture(reference, 1000, "outage-key");
        _sim.Simulator.AdvanceClock(TimeSpan.FromSeconds(2));
        var after = await _sim.Capture(reference, 1000, "outage-key");

        during.AssertProblem(503, null);
        var rule = Assert.Single(listedDuring);
        Assert.NotNull(rule.ActiveUntil);
        stillDuring.AssertProblem(503, null);
        after.AssertStatus(200);
        Assert.Empty(_sim.Simulator.Faults.Snapshot().Rules);
        Assert.Equal(1000, _sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task A_key_whose_first_request_is_in_flight_gets_409_and_other_keys_pass()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.FailNext("capture", reference, 1, kind: FaultKind.Hang);
        using var firstGivesUp = new CancellationTokenSource();
        var token = await _sim.Token();
        using var firstRequest = new HttpRequestMessage(HttpMethod.Post, $"{_sim.BaseUrl}/epayment/v1/payments/{reference}/capture")
        {
            Content = JsonContent.Create(SimulatorHarness.Modification(1000, "NOK")),
        };
        firstRequest.Headers.Authorization = new("Bearer", token);
        firstRequest.Headers.Add("Ocp-Apim-Subscription-Key", TestMerchants.VippsNo.SubscriptionKey);
        firstRequest.Headers.Add("Merchant-Serial-Number", TestMerchants.VippsNo.Msn);
        firstRequest.Headers.Add("Idempotency-Key", "one-chain");
        var first = _sim.Http.SendAsync(firstRequest, firstGivesUp.Token);
        await Eventually.Until(() => _sim.Simulator.Pipeline.InFlightRequests, n => n == 1, "the first capture to be in flight");

        var second = await _sim.Capture(reference, 1000, "one-chain");
        var otherKey = await _sim.Capture(reference, 500, "another-operation");
        await firstGivesUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Eventually.Until(() => _sim.Simulator.Pipeline.InFlightRequests, n => n == 0, "the first capture to be answered");
        var afterwards = await _sim.Capture(reference, 1000, "one-chain");

        second.AssertProblem(409, VippsRequestPipeline.InFlightCode);
        Assert.Empty(OpenApiSchema.EPayment.Value.Check(OpenApiSchema.EPayment.Value.Component("Problem"), second.Body));
        otherKey.AssertStatus(200);
        afterwards.AssertStatus(200);
        Assert.Equal(1, _sim.Simulator.Pipeline.InFlightConflicts);
        var ledger = _sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(1500, ledger.Captured);
        Assert.Single(ledger.Operations, o => o.Outcome == VippsRequestPipeline.InFlightOutcome && o.IdempotencyKey == "one-chain" && o.Status == 409);
    }

    [Fact]
    public async Task Injected_429_carries_the_rule_s_retry_after()
    {
        var reference = await _sim.AuthorizedPayment();
        _sim.Simulator.Faults.Add(new FaultSettings
        {
            Rules = { new FaultRule { Endpoint = "get", Reference = reference, Status = 429, RetryAfterSeconds = 7, Count = 1 } },
        });

        var limited = await _sim.Get(reference);

        limited.AssertProblem(429, null);
        Assert.Equal(TimeSpan.FromSeconds(7), limited.RetryAfter);
    }

    [Fact]
    public async Task Unknown_statuses_and_bad_windows_are_refused()
    {
        using var teapot = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults", new { rules = new[] { new { endpoint = "get", status = 418 } } });
        using var negative = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults", new { rules = new[] { new { endpoint = "get", status = 503, forSeconds = 0 } } });

        Assert.Equal(400, (int)teapot.StatusCode);
        Assert.Equal(400, (int)negative.StatusCode);
        Assert.Empty(_sim.Simulator.Faults.Snapshot().Rules);
    }
}

/// <summary>The rate limiter's own 429 says when the window frees up (Vipps' defaults: 5 adjustments a minute).</summary>
public sealed class RetryAfterTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = SimulatorHarness.With(new Dictionary<string, string?>(), new ManualClock(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero)));

    public Task InitializeAsync() => _sim.InitializeAsync();
    public Task DisposeAsync() => _sim.DisposeAsync();

    [Fact]
    public async Task Rate_limited_capture_answers_retry_after_until_the_oldest_call_leaves_the_minute()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        for (var i = 0; i < 5; i++) (await _sim.Capture(reference, 100)).AssertStatus(200);
        _sim.Simulator.AdvanceClock(TimeSpan.FromSeconds(20));

        var limited = await _sim.Capture(reference, 100);

        limited.AssertProblem(429, null);
        Assert.Equal(TimeSpan.FromSeconds(40), limited.RetryAfter);
    }
}
