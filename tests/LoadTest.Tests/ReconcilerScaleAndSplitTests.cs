using LoadTest;
using LoadTest.Phases;
using VippsSimulator.Webhooks;

namespace LoadTest.Tests;

/// <summary>The new figures' pieces: the approval split by webhook fate, the pass counter, what a pass's requests are,
/// and the command line of the reconciler-scale mode.</summary>
public sealed class ReconcilerScaleAndSplitTests
{
    private const string Authorized = "epayments.payment.authorized.v1";

    [Fact]
    public void Approvals_are_split_by_whether_their_authorized_webhook_was_delivered_or_dropped()
    {
        SaleRecord[] records =
        [
            Record("r-delivered", 100),
            Record("r-dropped", 2000),
            Record("r-dropped-then-duplicate-delivered", 150),
            Record("r-pending", 9000),
            Record("r-no-latency", null),
        ];
        WebhookDeliveryView[] deliveries =
        [
            Delivery("r-delivered", Authorized, DeliveryStatus.Delivered),
            Delivery("r-delivered", "epayments.payment.created.v1", DeliveryStatus.Dropped),
            Delivery("r-dropped", Authorized, DeliveryStatus.Dropped),
            Delivery("r-dropped", "epayments.payment.captured.v1", DeliveryStatus.Delivered),
            Delivery("r-dropped-then-duplicate-delivered", Authorized, DeliveryStatus.Dropped),
            Delivery("r-dropped-then-duplicate-delivered", Authorized, DeliveryStatus.Delivered),
            Delivery("r-pending", Authorized, DeliveryStatus.Pending),
            Delivery("r-no-latency", Authorized, DeliveryStatus.Delivered),
        ];

        var (delivered, dropped) = ObservePhase.SplitByWebhook(records, deliveries);

        Assert.Equal((2, 150d), (delivered.Count, delivered.Max));
        Assert.Equal((1, 2000d), (dropped.Count, dropped.Max));
    }

    [Fact]
    public void Passes_are_counted_by_the_reconcilers_log_line_with_the_sales_each_examined()
    {
        const string log = """
            info: VendingFunctions.Timers.ReconcilerFunction[0]
                  Reconciler examined 500 sales, changed 0, enqueued 0 commands, 0 errors; swept 0 events
            warn: Vending.Core.Reconciliation.Reconciler[0]
                  Sale x: no vend report 10 s after authorization; releasing
            info: VendingFunctions.Timers.ReconcilerFunction[0]
                  Reconciler examined 12 sales, changed 3, enqueued 3 commands, 0 errors; swept 1 events
            """;

        Assert.Equal((2, 512L), ReconcilerScalePhase.PassCounter.Count(log));
        Assert.Equal((0, 0L), ReconcilerScalePhase.PassCounter.Count("Reconciler examined sales"));
    }

    [Fact]
    public void The_idle_window_waits_until_nothing_in_the_due_index_is_due_before_the_window_ends()
    {
        var now = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var window = TimeSpan.FromSeconds(16);

        Assert.True(ReconcilerScalePhase.NothingDueWithin(null, now, window));
        Assert.True(ReconcilerScalePhase.NothingDueWithin(now.AddHours(1), now, window));
        Assert.True(ReconcilerScalePhase.NothingDueWithin(now.AddSeconds(17), now, window));
        Assert.False(ReconcilerScalePhase.NothingDueWithin(now.AddSeconds(16), now, window));
        Assert.False(ReconcilerScalePhase.NothingDueWithin(now.AddSeconds(5), now, window));
        Assert.False(ReconcilerScalePhase.NothingDueWithin(now.AddSeconds(-30), now, window));
    }

    [Fact]
    public void The_idle_window_covers_its_passes_the_pass_it_waits_for_and_slack()
    {
        var options = new LoadOptions { ReconcilerIntervalSeconds = 2, ReconcilerScalePasses = 5 };

        Assert.Equal(TimeSpan.FromSeconds(16), ReconcilerScalePhase.IdleWindow(options));
    }

    [Theory]
    [InlineData("table:Sales:read", true)]
    [InlineData("table:OpenSales:query", true)]
    [InlineData("table:Sales:batch", true)]
    [InlineData("queue:sale-commands:put", true)]
    [InlineData("table:WebhookRegistrations:query", false)]
    [InlineData("table:(tables):post", false)]
    [InlineData("queue:sale-commands:get-empty", false)]
    [InlineData("queue:sale-commands:get", false)]
    [InlineData("queue:sale-commands:delete", false)]
    public void A_passes_requests_are_its_table_requests_and_the_commands_it_enqueues(string kind, bool included)
    {
        Assert.Equal(included, ReconcilerScalePhase.Included(kind));
    }

    [Fact]
    public void The_reconciler_scale_option_replaces_the_drive_and_keeps_walk_away_payments_from_expiring()
    {
        var options = LoadOptions.Parse(["--reconciler-scale", "5000,1000", "--reconciler-due", "40"]);

        Assert.Equal((5000, 1000, 40), (options.ReconcilerScaleMachines, options.ReconcilerScaleOpenSales, options.ReconcilerScaleDue));
        Assert.True(options.ReconcilerScale);
        Assert.Equal((0, 0, 0), (options.CalibrationSales, options.BurstSales, options.BaselineInserts));
        Assert.True(options.PaymentExpirySeconds >= 3600);
        Assert.False(LoadOptions.Parse([]).ReconcilerScale);
    }

    [Theory]
    [InlineData("5000")]
    [InlineData("100,200")]
    [InlineData("x,1")]
    public void A_bad_reconciler_scale_is_refused(string value)
    {
        Assert.ThrowsAny<Exception>(() => LoadOptions.Parse(["--reconciler-scale", value]));
    }

    [Fact]
    public void More_due_sales_than_open_ones_is_refused()
    {
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--reconciler-scale", "100,10", "--reconciler-due", "11"]));
    }

    private static SaleRecord Record(string reference, double? milliseconds) => new()
    {
        MachineId = "m",
        MachineSaleId = reference,
        MerchantId = "vippsno",
        CaptureAtAuthorization = false,
        Scenario = new Scenario(CustomerAction.Approve, MachineAction.Deliver, false),
        Amount = 100,
        Reference = reference,
        ApprovalToMachine = milliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
    };

    private static WebhookDeliveryView Delivery(string reference, string eventType, DeliveryStatus status) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "http://x", "123456", reference, eventType, "psp", 1, false, status, DateTimeOffset.UnixEpoch, [], "{}");
}
