using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

/// <summary>Vipps' documented defaults: 5 adjustments and 120 queries per minute per reference.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = SimulatorHarness.With(new Dictionary<string, string?>());

    public Task InitializeAsync() => _sim.InitializeAsync();
    public Task DisposeAsync() => _sim.DisposeAsync();

    [Fact]
    public async Task Sixth_capture_within_a_minute_is_429_until_the_minute_passes()
    {
        var reference = await _sim.AuthorizedPayment(2500);
        for (var i = 0; i < 5; i++) (await _sim.Capture(reference, 100)).AssertStatus(200);

        var sixth = await _sim.Capture(reference, 100);
        var otherPayment = await _sim.Capture(await _sim.AuthorizedPayment(), 100);
        _sim.Simulator.AdvanceClock(TimeSpan.FromSeconds(61));
        var later = await _sim.Capture(reference, 100);

        sixth.AssertProblem(429, null);
        otherPayment.AssertStatus(200);
        later.AssertStatus(200);
        Assert.Equal(600, _sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Queries_are_limited_to_120_per_minute()
    {
        var reference = await _sim.AuthorizedPayment();
        var token = await _sim.Token();
        for (var i = 0; i < 120; i++) (await _sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}", token: token)).AssertStatus(200);

        (await _sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}", token: token)).AssertProblem(429, null);
    }

    [Fact]
    public async Task Limits_can_be_raised_by_configuration()
    {
        var settings = new Dictionary<string, string?> { ["Simulator:RateLimits:AdjustmentsPerMinute"] = "50" };
        await using var raised = SimulatorHarness.With(settings);
        await raised.InitializeAsync();
        var reference = await raised.AuthorizedPayment(2500);

        for (var i = 0; i < 10; i++) (await raised.Capture(reference, 100)).AssertStatus(200);
    }
}
