using LoadTest;
using VippsSimulator.Webhooks;

namespace LoadTest.Tests;

/// <summary>The latency diagnosis' pieces: the approval's legs from the delivery log, and the CPU sampler's kinds.</summary>
public sealed class LatencyDiagnosticsTests
{
    private const string Authorized = "epayments.payment.authorized.v1";
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_approval_is_split_into_what_vipps_held_and_what_was_ours_and_classed_by_disturbance()
    {
        SaleRecord[] records =
        [
            // Sent 20 ms after approve, answered 40 ms after it was sent: undisturbed.
            Record("r-clean", approvedMs: 0, answeredMs: 60),
            // The delay fault: sent 1,520 ms after approve, answered 30 ms later.
            Record("r-delayed", approvedMs: 0, answeredMs: 1550),
            // The instance was down: the first attempt failed, the second (2,000 ms) was acknowledged.
            Record("r-retried", approvedMs: 0, answeredMs: 2100),
            // The webhook was dropped: not in this breakdown at all.
            Record("r-dropped", approvedMs: 0, answeredMs: 4000),
        ];
        WebhookDeliveryView[] deliveries =
        [
            Delivery("r-clean", DeliveryStatus.Delivered, Attempt(20, 200, 15)),
            Delivery("r-delayed", DeliveryStatus.Delivered, Attempt(1520, 200, 25)),
            Delivery("r-retried", DeliveryStatus.Delivered, Attempt(30, null, 1), Attempt(2000, 200, 80)),
            Delivery("r-dropped", DeliveryStatus.Dropped),
        ];

        var legs = ApprovalBreakdown.Of(records, deliveries);

        Assert.Equal((1, 60d), (legs.Undisturbed.Count, legs.Undisturbed.Max));
        Assert.Equal((2, 2100d), (legs.Disturbed.Count, legs.Disturbed.Max));
        Assert.Equal((1, 1), (legs.Retried, legs.Held));
        Assert.Equal(3, legs.Ours.Count);
        Assert.Equal(100d, legs.Ours.Max);
        Assert.Equal(40d, legs.Ours.P50);
        Assert.Equal(2000d, legs.VippsHolds.Max);
        Assert.Equal(80d, legs.WebhookHandling.Max);
    }

    [Fact]
    public void An_approval_overlapping_an_instance_restart_is_disturbed_even_when_its_webhook_went_through_at_once()
    {
        SaleRecord[] records = [Record("r-restart", approvedMs: 0, answeredMs: 4000), Record("r-later", approvedMs: 5000, answeredMs: 5050)];
        WebhookDeliveryView[] deliveries =
        [
            Delivery("r-restart", DeliveryStatus.Delivered, Attempt(10, 200, 3900)),
            Delivery("r-later", DeliveryStatus.Delivered, Attempt(5010, 200, 20)),
        ];

        var legs = ApprovalBreakdown.Of(records, deliveries, [new TimeWindow(T0.AddMilliseconds(-2000), T0.AddMilliseconds(3000))]);

        Assert.Equal((1, 50d), (legs.Undisturbed.Count, legs.Undisturbed.Max));
        Assert.Equal((1, 4000d), (legs.Disturbed.Count, legs.Disturbed.Max));
        Assert.Equal((1, 0, 0), (legs.DuringRestart, legs.Retried, legs.Held));
        Assert.Equal((2, 3990d), (legs.Ours.Count, legs.Ours.Max));
        Assert.Equal((1, 40d), (legs.OursOutsideRestarts.Count, legs.OursOutsideRestarts.Max));
    }

    [Fact]
    public void A_sale_known_only_through_a_delivered_duplicate_counts_as_disturbed()
    {
        SaleRecord[] records = [Record("r-dup", approvedMs: 0, answeredMs: 90)];
        WebhookDeliveryView[] deliveries =
        [
            Delivery("r-dup", DeliveryStatus.Abandoned, Attempt(10, 500, 5)),
            Delivery("r-dup", DeliveryStatus.Delivered, duplicate: true, Attempt(50, 200, 10)),
        ];

        var legs = ApprovalBreakdown.Of(records, deliveries);

        Assert.Equal((0, 1), (legs.Undisturbed.Count, legs.Disturbed.Count));
        Assert.Equal(40d, legs.Ours.Max);
    }

    [Fact]
    public void A_create_is_split_at_the_moment_vipps_created_the_payment()
    {
        var inside = Record("r-create", 0, 0);
        (inside.CreateStartedAt, inside.CreateAnsweredAt) = (T0, T0.AddMilliseconds(300));
        var unknown = Record("r-unknown", 0, 0);
        (unknown.CreateStartedAt, unknown.CreateAnsweredAt) = (T0, T0.AddMilliseconds(50));
        var outside = Record("r-clock-skew", 0, 0);
        (outside.CreateStartedAt, outside.CreateAnsweredAt) = (T0, T0.AddMilliseconds(50));
        var created = new Dictionary<string, DateTimeOffset> { ["r-create"] = T0.AddMilliseconds(220), ["r-clock-skew"] = T0.AddMilliseconds(90) };

        var (before, after) = LatencyDiagnostics.CreateLegs([inside, unknown, outside], reference => created.TryGetValue(reference, out var at) ? at : null);

        Assert.Equal((1, 220d), (before.Count, before.Max));
        Assert.Equal((1, 80d), (after.Count, after.Max));
    }

    [Fact]
    public void A_dropped_webhook_is_timed_from_the_first_moment_the_product_may_poll()
    {
        var early = Record("r-early", approvedMs: 1000, answeredMs: 5600);
        early.CreateStartedAt = T0;
        var late = Record("r-late", approvedMs: 7000, answeredMs: 7900);
        late.CreateStartedAt = T0;
        var delivered = Record("r-delivered", approvedMs: 1000, answeredMs: 1100);
        delivered.CreateStartedAt = T0;

        var summary = LatencyDiagnostics.FromPollAllowed([early, late, delivered], new HashSet<string> { "r-early", "r-late" }, TimeSpan.FromSeconds(5));

        Assert.Equal(2, summary.Count);
        Assert.Equal((600d, 900d), (summary.P50, summary.Max));
    }

    [Fact]
    public async Task The_cpu_sampler_counts_this_process_as_the_harness_and_reports_cores_used()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Fail("The CPU sampler reads /proc: Linux only (the harness' build machine).");
        }

        var figures = await BurnAsync();

        Assert.True(figures.CoresByKind.TryGetValue(CpuSampler.Harness, out var harness), string.Join(", ", figures.CoresByKind.Keys));
        Assert.InRange(harness, 0.05, Environment.ProcessorCount);
        Assert.True(figures.HarnessThreadPoolThreadsMax > 0);
    }

    private static async Task<CpuFigures> BurnAsync()
    {
        await using var sampler = CpuSampler.Start();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var spin = 0L;
        // Keep one core busy for a little over a second, so two samples see this process' ticks grow.
        while (clock.Elapsed < TimeSpan.FromMilliseconds(1300))
        {
            spin++;
        }

        GC.KeepAlive(spin);
        return await sampler.StopAsync();
    }

    private static SaleRecord Record(string reference, int approvedMs, int answeredMs) => new()
    {
        MachineId = "m",
        MachineSaleId = reference,
        MerchantId = "vippsno",
        CaptureAtAuthorization = false,
        Scenario = new Scenario(CustomerAction.Approve, MachineAction.Deliver, false),
        Amount = 100,
        Reference = reference,
        ApprovalToMachine = TimeSpan.FromMilliseconds(answeredMs - approvedMs),
        ApprovedAt = T0.AddMilliseconds(approvedMs),
        ApprovalAnsweredAt = T0.AddMilliseconds(answeredMs),
    };

    private static DeliveryAttempt Attempt(int sentMs, int? status, double durationMs) => new(T0.AddMilliseconds(sentMs), status, status is null ? "refused" : null, durationMs);

    private static WebhookDeliveryView Delivery(string reference, DeliveryStatus status, params DeliveryAttempt[] attempts) =>
        Delivery(reference, status, false, attempts);

    private static WebhookDeliveryView Delivery(string reference, DeliveryStatus status, bool duplicate, params DeliveryAttempt[] attempts) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "http://x", "123456", reference, Authorized, "psp", 1, duplicate, status, T0, attempts, "{}");
}
