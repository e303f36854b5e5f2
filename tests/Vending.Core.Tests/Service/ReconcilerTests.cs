using Moq;
using Vending.Core.Sales;
using Vending.Core.Tests.Storage;
using Vending.Vipps.EPayment;

namespace Vending.Core.Tests.Service;

[Collection(nameof(AzuriteCollection))]
public class ReconcilerTests(AzuriteFixture azurite)
{
    private readonly CoreHarness _core = new(azurite);

    private static readonly TimeSpan SaleCommandProcessorEarlyCap = Vending.Core.Commands.SaleCommandProcessor.EarlyMaxBackoff;

    private static PaymentDetails Details(string reference, string state, long captured = 0, long cancelled = 0) =>
        new(reference, state, new Amount("NOK", 8000),
            new Aggregate(new Amount("NOK", state == "AUTHORIZED" ? 8000 : 0), new Amount("NOK", cancelled), new Amount("NOK", captured), new Amount("NOK", 0)), "psp");

    /// <summary>The reconciler also passes over other tests' sales in the shared Azurite: look at this sale's commands only.</summary>
    private List<Vending.Core.Sales.SaleCommand> Mine(string reference) =>
        _core.Queue.Sent.Select(sent => sent.Command).Where(command => command.Reference == reference).ToList();

    private async Task<(string MachineId, string Reference)> CreatedSaleAsync()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;
        return (machine.MachineId, sale.Reference);
    }

    [Fact]
    public async Task A_lost_authorization_webhook_is_found_in_the_event_log()
    {
        var (_, reference) = await CreatedSaleAsync();
        _core.Vipps.Setup(v => v.GetPaymentEventsAsync("vippsno", reference, It.IsAny<CancellationToken>()))
            .ReturnsAsync([CoreHarness.Event(reference, "AUTHORIZED")]);

        // The reconciler looks when the sale is due: a payment still CREATED is first checked CreatedCheck after create.
        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        var report = await _core.Reconciler.RunOnceAsync(default);

        Assert.Equal(SaleState.Authorized, (await _core.SaleAsync(reference)).State);
        Assert.True(report.Changed >= 1);
    }

    [Fact]
    public async Task A_payment_still_created_past_expiry_and_grace_is_expired()
    {
        var (_, reference) = await CreatedSaleAsync();
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, "CREATED"));

        await _core.Reconciler.RunOnceAsync(default);
        Assert.Equal(SaleState.Created, (await _core.SaleAsync(reference)).State);

        _core.Time.Advance(SaleService.PaymentLifetime + TimeSpan.FromSeconds(_core.Options.ExpiryGraceSeconds));
        await _core.Reconciler.RunOnceAsync(default);

        // Not only in our books: the payment is terminated at Vipps, so the customer can no longer approve it.
        Assert.Equal(SaleState.Settling, (await _core.SaleAsync(reference)).State);
        Assert.Equal("cancel", Assert.Single(Mine(reference)).Kind);
        await _core.RunCommandsAsync();
        _core.Vipps.Verify(v => v.CancelAsync("vippsno", reference, true, It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(SaleState.Expired, (await _core.SaleAsync(reference)).State);
    }

    [Fact]
    public async Task An_authorization_without_a_vend_report_is_released_after_the_deadline()
    {
        var (_, reference) = await CreatedSaleAsync();
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED") with { Timestamp = _core.Time.Now }, default);

        await _core.Reconciler.RunOnceAsync(default);
        Assert.Empty(Mine(reference));

        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.VendReportDeadlineSeconds));
        await _core.Reconciler.RunOnceAsync(default);

        var command = Assert.Single(Mine(reference));
        Assert.Equal("release", command.Kind);
        await _core.RunCommandsAsync();
        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Cancelled, 0L), (sale.State, sale.CapturedAmount));
    }

    [Fact]
    public async Task A_command_pending_too_long_is_sent_again_as_the_same_operation()
    {
        var (machineId, reference) = await CreatedSaleAsync();
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        var first = Assert.Single(_core.Queue.Sent).Command;
        _core.Queue.Sent.Clear(); // the message got lost

        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.CommandStaleSeconds));
        var report = await _core.Reconciler.RunOnceAsync(default);

        var again = Assert.Single(Mine(reference));
        Assert.Equal(first with { Attempt = 1 }, again);
        Assert.True(report.CommandsEnqueued >= 1);
    }

    [Fact]
    public async Task A_command_in_backoff_is_not_sent_again_until_its_next_attempt_is_overdue_and_the_old_chain_then_stops()
    {
        var (machineId, reference) = await CreatedSaleAsync();
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        var calls = 0;
        _core.Vipps.Setup(v => v.CaptureAsync("vippsno", reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback(() => calls++)
            .ThrowsAsync(new Vending.Vipps.VippsApiException(System.Net.HttpStatusCode.ServiceUnavailable, null, "down"));
        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        var first = Assert.Single(Mine(reference));
        _core.Queue.Sent.Clear();

        // Attempts 1..6: the backoff grows (5 s doubling, at most a minute in the first hour).
        var message = first;
        for (var attempt = 1; attempt <= 6; attempt++)
        {
            await _core.Processor.ProcessAsync(message.ToJson(), 1, default);
            message = Assert.Single(Mine(reference));
            _core.Queue.Sent.Clear();
            Assert.Equal(attempt, message.Attempt);
        }

        var operation = (await _core.SaleAsync(reference)).FindOperation(first.OperationId)!;
        Assert.Equal((6, "vipps_http_503"), (operation.Attempt, operation.LastError));
        // 5 s doubling would be 160 s; in the operation's first hour the cap is a minute.
        Assert.Equal(_core.Time.Now + SaleCommandProcessorEarlyCap, operation.NextAttemptAt);

        // Stale since it was enqueued, but its backoff is still running: no second chain.
        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.CommandStaleSeconds));
        await _core.Reconciler.RunOnceAsync(default);
        Assert.Empty(Mine(reference));

        // Overdue past its next attempt (the message was lost): the reconciler starts chain 7...
        _core.Time.Now = operation.DueAt + TimeSpan.FromSeconds(_core.Options.CommandStaleSeconds);
        await _core.Reconciler.RunOnceAsync(default);
        var resent = Assert.Single(Mine(reference));
        Assert.Equal(7, resent.Attempt);

        // ...and when the old chain's message turns up after all, it is dropped without calling Vipps.
        var before = calls;
        await _core.Processor.ProcessAsync(message.ToJson(), 1, default);
        Assert.Equal(before, calls);
    }

    [Theory]
    [InlineData(20, 7)]
    [InlineData(1200, 500)] // the production batch size, with more open sales than two batches
    public async Task Every_open_sale_is_reached_when_there_are_more_than_one_batch(int sales, int batchSize)
    {
        // An Azurite of its own: a thousand open sales in the shared one would push other tests' sales out of their
        // reconciler's first batch.
        var own = new AzuriteFixture();
        await own.InitializeAsync();
        try
        {
            await EveryOpenSaleIsReachedAsync(new CoreHarness(own, new VendingOptions { PublicBaseUrl = new Uri("http://127.0.0.1:7072"), ReconcileBatchSize = batchSize }), sales, batchSize);
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    private static async Task EveryOpenSaleIsReachedAsync(CoreHarness harness, int sales, int batchSize)
    {
        var references = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, sales), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, ct) =>
        {
            var sale = (await harness.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(), ct)).Sale;
            references.Add(sale.Reference);
        });

        // The webhooks were lost: only the reconciler's poll of each sale's event log can find the authorizations.
        var known = references.ToHashSet();
        Assert.Equal(sales, known.Count);
        harness.Vipps.Setup(v => v.GetPaymentEventsAsync("vippsno", It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string reference, CancellationToken _) => known.Contains(reference) ? [CoreHarness.Event(reference, "AUTHORIZED")] : []);

        var open = (await harness.Due.ListAsync(100_000, null, default)).Count;
        Assert.Equal(sales, open);
        harness.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        var passes = open / batchSize + 2;
        for (var pass = 0; pass < passes; pass++)
        {
            var report = await harness.Reconciler.RunOnceAsync(default);
            Assert.True(report.Examined <= batchSize);
        }

        foreach (var reference in references)
        {
            Assert.Equal(SaleState.Authorized, (await harness.SaleAsync(reference)).State);
        }
    }

    [Fact]
    public async Task A_capture_at_authorization_sale_without_a_vend_report_is_refunded_once_and_stays_watched_until_then()
    {
        var machine = CoreHarness.Machine(mode: CaptureMode.OnAuthorization);
        var reference = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        await _core.RunCommandsAsync();
        Assert.Equal(SaleState.Captured, (await _core.SaleAsync(reference)).State);

        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        await _core.Reconciler.RunOnceAsync(default);
        Assert.Contains(await _core.Due.ListAsync(100_000, null, default), entry => entry.Reference == reference);

        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.VendReportDeadlineSeconds));
        await _core.Reconciler.RunOnceAsync(default);
        Assert.Equal("refund", Assert.Single(Mine(reference)).Kind);
        await _core.RunCommandsAsync();
        await _core.Reconciler.RunOnceAsync(default);

        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Refunded, 8000L, 8000L), (sale.State, sale.CapturedAmount, sale.RefundedAmount));
        _core.Vipps.Verify(v => v.RefundAsync("vippsno", reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);

        // The machine comes back and says it delivered: 409 to the machine, but kept and reported.
        var late = await Assert.ThrowsAsync<SaleException>(() => _core.Service.ReportVendAsync(machine.MachineId, reference, new VendReport(VendOutcome.Delivered, null), default));
        Assert.Equal("vend_report_too_late", late.Code);
        Assert.Equal(8000, (await _core.SaleAsync(reference)).DeliveredNotChargedAmount);
        Assert.Contains(await _core.Store.GetHistoryAsync(reference, default), entry => entry.Type == "late_vend_report");
    }

    [Fact]
    public async Task A_finished_sale_leaves_the_due_index_only_when_its_events_are_sent()
    {
        // Publishing fails (the topic is down): the events stay pending in the outbox.
        var outbox = new Mock<Vending.Core.Sales.IOutboxDispatcher>();
        outbox.Setup(o => o.PublishAsync(It.IsAny<IReadOnlyList<Vending.Domain.Events.OutboxEvent>>(), It.IsAny<CancellationToken>())).ReturnsAsync(0);
        outbox.Setup(o => o.PublishPendingAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(((IReadOnlyList<long>)[], false));
        var core = new CoreHarness(azurite, outbox: outbox.Object);
        var reference = (await core.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(), default)).Sale.Reference;
        await core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "ABORTED"), default);

        core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        await core.Reconciler.RunOnceAsync(default);
        Assert.Contains(await core.Due.ListAsync(100_000, null, default), entry => entry.Reference == reference);
        Assert.True(await core.Store.HasUnsentOutboxAsync(reference, default));

        // The topic is back: the pending rows are published; the reconciler's close marks them sent.
        var sales = azurite.Table(Vending.Core.Storage.TableNames.Sales);
        var (partition, from, to) = (Vending.Core.Storage.OutboxRows.Partition(reference), Vending.Core.Storage.OutboxRows.RangeStart(reference), Vending.Core.Storage.OutboxRows.RangeEnd(reference));
        var pending = sales.Query<Azure.Data.Tables.TableEntity>(row => row.PartitionKey == partition && row.RowKey.CompareTo(from) >= 0 && row.RowKey.CompareTo(to) < 0)
            .Select(row => Vending.Core.Storage.OutboxRows.ToEvent(row).Sequence).Order().ToList();
        Assert.NotEmpty(pending);
        outbox.Setup(o => o.PublishPendingAsync(reference, It.IsAny<CancellationToken>())).ReturnsAsync(((IReadOnlyList<long>)pending, true));

        core.Time.Advance(Vending.Core.Sales.DueSchedule.RevisitFloor);
        await core.Reconciler.RunOnceAsync(default);
        Assert.DoesNotContain(await core.Due.ListAsync(100_000, null, default), entry => entry.Reference == reference);
        Assert.False(await core.Store.HasUnsentOutboxAsync(reference, default));
    }

    [Fact]
    public async Task A_divergence_from_the_Vipps_aggregate_is_recorded()
    {
        var (machineId, reference) = await CreatedSaleAsync();
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        await _core.RunCommandsAsync();
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, "AUTHORIZED", captured: 0));

        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        await _core.Reconciler.RunOnceAsync(default);
        await _core.Reconciler.RunOnceAsync(default);

        var history = await _core.Service.GetHistoryAsync(reference, default);
        Assert.Single(history, entry => entry.Type == "divergence");
    }
}
