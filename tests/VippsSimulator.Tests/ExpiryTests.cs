using VippsSimulator.Payments;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

/// <summary>Expiry moves the clock, so these tests have a simulator of their own, on a clock that only moves when told.</summary>
public sealed class ExpiryTests : IAsyncLifetime
{
    private readonly SimulatorHarness _sim = SimulatorHarness.With(WithFastSweep(), new ManualClock(DateTimeOffset.UtcNow));
    private WebhookReceiver _receiver = null!;

    private static Dictionary<string, string?> WithFastSweep()
    {
        var settings = SimulatorHarness.FastSettings();
        settings["Simulator:ExpirySweepIntervalMilliseconds"] = "20";
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

    [Fact]
    public async Task Created_payment_expires_after_ten_minutes_even_if_opened()
    {
        var reference = SimulatorHarness.NewReference();
        (await _sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);
        using var open = await _sim.Http.PostAsync($"{_sim.BaseUrl}/_sim/payments/{reference}/open", null);

        using var early = await _sim.Http.PostAsync($"{_sim.BaseUrl}/_sim/clock/advance?seconds=599", null);
        var before = (await _sim.Get(reference)).Json["state"]!.GetValue<string>();
        using var late = await _sim.Http.PostAsync($"{_sim.BaseUrl}/_sim/clock/advance?seconds=1", null);

        Assert.Equal("CREATED", before);
        Assert.Contains("\"expired\":1", await late.Content.ReadAsStringAsync());
        var get = await _sim.Get(reference);
        Assert.Equal("EXPIRED", get.Json["state"]!.GetValue<string>());
        Assert.Equal(0, get.Json["aggregate"]!["authorizedAmount"]!["value"]!.GetValue<long>());
        var events = await _sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}/events");
        Assert.Equal("EXPIRED", events.Json.AsArray().Last()!["name"]!.GetValue<string>());
        Assert.NotNull(_sim.Simulator.Approve(reference));
    }

    [Fact]
    public async Task Background_sweep_expires_and_notifies_without_anyone_asking()
    {
        var token = await _sim.Token();
        (await _sim.Call(HttpMethod.Post, "/webhooks/v1/webhooks", new { url = $"{_receiver.Url}/hook", events = new[] { "epayments.payment.expired.v1" } }, token: token))
            .AssertStatus(201);
        var reference = SimulatorHarness.NewReference();
        (await _sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);

        // Only the clock moves; nothing reads the payment, so only the sweep can expire it.
        _sim.Simulator.Clock.Advance(TimeSpan.FromMinutes(11));

        var received = await Eventually.Until(() => _receiver.For(reference), r => r.Count > 0, "the expired webhook");
        Assert.Equal("EXPIRED", received[0].Name);
    }
}
