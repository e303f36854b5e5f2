using System.Net.Http.Json;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

/// <summary>Injected faults change a fresh simulator's behaviour, so every test here has its own.</summary>
public sealed class FaultTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = new();

    public Task InitializeAsync() => _sim.InitializeAsync();
    public Task DisposeAsync() => _sim.DisposeAsync();

    [Fact]
    public async Task One_shot_fault_fails_the_next_n_captures_of_one_reference_only()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        var other = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.FailNext("capture", reference, count: 2);

        var first = await _sim.Capture(reference, 1000, "k");
        var otherCapture = await _sim.Capture(other, 1000);
        var second = await _sim.Capture(reference, 1000, "k");
        var third = await _sim.Capture(reference, 1000, "k");

        first.AssertProblem(500, "3010");
        Assert.Empty(OpenApiSchema.EPayment.Value.Check(OpenApiSchema.EPayment.Value.Component("Problem"), first.Body));
        otherCapture.AssertStatus(200);
        second.AssertProblem(500, "3010");
        third.AssertStatus(200);
        Assert.Equal(1000, _sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(423)]
    public async Task Transient_statuses_can_be_injected_over_http(int status)
    {
        var reference = await _sim.AuthorizedPayment();
        using var posted = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults",
            new { rules = new[] { new { endpoint = "get", reference, status, count = 1 } } });
        Assert.Equal(200, (int)posted.StatusCode);

        var faulted = await _sim.Get(reference);
        var after = await _sim.Get(reference);

        faulted.AssertProblem(status, null);
        after.AssertStatus(200);
    }

    [Fact]
    public async Task Lost_response_applies_the_capture_and_the_retry_with_the_same_key_replays_it()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.FailNext("capture", reference, 1, kind: FaultKind.ResponseLost);

        var lost = await _sim.Capture(reference, 2500, "capture-once");
        var retry = await _sim.Capture(reference, 2500, "capture-once");

        lost.AssertProblem(500, "3010");
        retry.AssertStatus(200);
        Assert.Equal(2500, retry.Json["aggregate"]!["capturedAmount"]!["value"]!.GetValue<long>());
        var ledger = _sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(2500, ledger.Captured);
        Assert.Single(ledger.Events, e => e.Name == VippsSimulator.Payments.PaymentEventName.CAPTURED);
    }

    [Fact]
    public async Task Hang_outlasts_the_client_timeout_and_changes_nothing()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.FailNext("capture", reference, 1, kind: FaultKind.Hang);
        var token = await _sim.Token();
        using var impatient = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_sim.BaseUrl}/epayment/v1/payments/{reference}/capture")
        {
            Content = JsonContent.Create(SimulatorHarness.Modification(100, "NOK")),
        };
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("Ocp-Apim-Subscription-Key", TestMerchants.VippsNo.SubscriptionKey);
        request.Headers.Add("Merchant-Serial-Number", TestMerchants.VippsNo.Msn);
        request.Headers.Add("Idempotency-Key", "hang-key");

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.SendAsync(request));

        Assert.Equal(0, _sim.Simulator.Ledger.Find(reference)!.Captured);
        // The server notices the abandoned request a moment after the client gives up; until then the same key is
        // answered 409 "in progress" (4020), as Vipps does, and a client retries it, as ours does. Nothing was captured
        // meanwhile, and the retry then captures once.
        var retry = await _sim.Capture(reference, 100, "hang-key");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (retry.Status == 409 && retry.Body.Contains("\"4020\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            Assert.Equal(0, _sim.Simulator.Ledger.Find(reference)!.Captured);
            await Task.Delay(50);
            retry = await _sim.Capture(reference, 100, "hang-key");
        }

        retry.AssertStatus(200);
        Assert.Equal(100, _sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Seeded_rates_repeat_the_same_fault_sequence()
    {
        var reference = await _sim.AuthorizedPayment();

        async Task<string> Run()
        {
            _sim.Simulator.Faults.Reset();
            _sim.Simulator.Faults.Add(new FaultSettings { Seed = 42, Rules = { new FaultRule { Endpoint = "get", Rate = 0.5, Status = 500 } } });
            var statuses = new List<int>();
            for (var i = 0; i < 16; i++) statuses.Add((await _sim.Get(reference)).Status);
            return string.Join(",", statuses);
        }

        var first = await Run();
        var second = await Run();

        Assert.Equal(first, second);
        Assert.Contains("500", first);
        Assert.Contains("200", first);
    }

    [Fact]
    public async Task Token_endpoint_faults_and_reset()
    {
        _sim.Simulator.Faults.Add(new FaultSettings { Rules = { new FaultRule { Endpoint = "token", Status = 503 } } });
        using var failing = await _sim.RequestToken(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey);
        using var reset = await _sim.Http.DeleteAsync($"{_sim.BaseUrl}/_sim/faults");
        using var working = await _sim.RequestToken(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey);

        Assert.Equal(503, (int)failing.StatusCode);
        Assert.Equal(204, (int)reset.StatusCode);
        Assert.Equal(200, (int)working.StatusCode);
    }

    [Fact]
    public async Task Invalid_fault_requests_are_refused()
    {
        using var reply = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults", new { rules = new[] { new { endpoint = "teleport" } } });
        Assert.Equal(400, (int)reply.StatusCode);
    }

    [Fact]
    public async Task Permanent_refusal_answers_vipps_problem_with_the_error_code_and_changes_nothing()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        using var posted = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults",
            new { rules = new[] { new { endpoint = "capture", reference, status = 400, errorCode = "6200", count = 1 } } });
        Assert.Equal(200, (int)posted.StatusCode);

        var refused = await _sim.Capture(reference, 2500, "refused-key");
        var later = await _sim.Capture(reference, 2500, "another-key");

        refused.AssertProblem(400, "6200");
        Assert.Equal("Payment cannot be captured", refused.Json["title"]!.GetValue<string>());
        Assert.Empty(OpenApiSchema.EPayment.Value.Check(OpenApiSchema.EPayment.Value.Component("Problem"), refused.Body));
        later.AssertStatus(200);
        var ledger = _sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(2500, ledger.Captured);
        Assert.Single(ledger.Events, e => e.Name == VippsSimulator.Payments.PaymentEventName.CAPTURED);
    }

    [Fact]
    public async Task Refusal_on_cancel_holds_the_reservation_until_its_count_runs_out()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        _sim.Simulator.Faults.Add(new FaultSettings
        {
            Rules = { new FaultRule { Endpoint = "cancel", Reference = reference, Status = 409, ErrorCode = "6190", Count = 1 } },
        });

        var refused = await _sim.Cancel(reference);
        Assert.Equal(0, _sim.Simulator.Ledger.Find(reference)!.Cancelled);
        var released = await _sim.Cancel(reference);

        refused.AssertProblem(409, "6190");
        released.AssertStatus(200);
        Assert.Equal(2500, _sim.Simulator.Ledger.Find(reference)!.Cancelled);
    }

    [Theory]
    [InlineData(400, null, "Error")]
    [InlineData(409, "62", "Error")]
    [InlineData(400, "6200", "ResponseLost")]
    [InlineData(500, "6200", "Error")]
    public async Task Refusal_faults_need_a_four_digit_code_and_kind_error(int status, string? errorCode, string kind)
    {
        using var reply = await _sim.Http.PostAsJsonAsync($"{_sim.BaseUrl}/_sim/faults",
            new { rules = new[] { new { endpoint = "capture", status, errorCode, kind } } });

        Assert.Equal(400, (int)reply.StatusCode);
        Assert.Empty(_sim.Simulator.Faults.Snapshot().Rules);
    }
}
