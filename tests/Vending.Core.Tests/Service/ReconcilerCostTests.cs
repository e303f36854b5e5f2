using Moq;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Storage;
using Vending.Domain.Events;
using Vending.Vipps.EPayment;

namespace Vending.Core.Tests.Service;

/// <summary>
/// What the reconciler's visits cost in storage requests, counted on the wire. Each test has an Azurite of its own, so
/// a pass lists this test's rows only and the count is exact.
/// </summary>
public sealed class ReconcilerCostTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite = new();
    private readonly RequestLog _log = new();
    private readonly Mock<IOutboxDispatcher> _outbox = new();
    private CoreHarness _core = null!;

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        // The topic takes every event: the recorder publishes each step's events from memory.
        _outbox.Setup(o => o.PublishAsync(It.IsAny<IReadOnlyList<OutboxEvent>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((IReadOnlyList<OutboxEvent> events, CancellationToken _) => events.Count);
        _outbox.Setup(o => o.PublishPendingAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(((IReadOnlyList<long>)[], true));
        _core = new CoreHarness(_azurite, null, _outbox.Object, _log);
    }

    public Task DisposeAsync() => _azurite.DisposeAsync();

    private async Task<(string MachineId, string Reference)> AuthorizedSaleAsync()
    {
        var machine = CoreHarness.Machine();
        var reference = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED") with { Timestamp = _core.Time.Now }, default);
        AggregateAgrees(reference);
        return (machine.MachineId, reference);
    }

    /// <summary>Vipps' aggregate agrees with ours once captured: the close's comparison finds nothing.</summary>
    private void AggregateAgrees(string reference) =>
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new PaymentDetails(reference, "AUTHORIZED", new Amount("NOK", 8000),
                new Aggregate(new Amount("NOK", 8000), new Amount("NOK", 0), new Amount("NOK", 8000), new Amount("NOK", 0)), "psp"));

    private async Task CaptureAsync(string machineId, string reference)
    {
        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        await _core.RunCommandsAsync();
        Assert.Equal(SaleState.Captured, (await _core.SaleAsync(reference)).State);
    }

    private async Task<List<DueEntry>> RowsOfAsync(string reference) =>
        (await _core.Due.ListAsync(100_000, null, default)).Where(entry => entry.Reference == reference).ToList();

    [Fact]
    public async Task Closing_sales_this_instance_knows_published_costs_one_write_each_and_one_removal_batch_for_all()
    {
        var sales = new List<string>();
        for (var n = 0; n < 3; n++)
        {
            var (machineId, reference) = await AuthorizedSaleAsync();
            await CaptureAsync(machineId, reference);
            sales.Add(reference);
        }

        // The sales' first due time (the create's row): done by then, so this is their only visit.
        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        _log.Clear();
        var report = await _core.Reconciler.RunOnceAsync(default);

        Assert.Equal(3, report.Examined);
        // The due index's query, each sale's close (state row's due time cleared + outbox "sent" marks, one batch), and
        // the three visited rows removed in one batch. No read of a sale, no outbox query.
        Assert.Collection(_log.Requests,
            query => Assert.StartsWith("GET /OpenSales()", query),
            close => Assert.StartsWith("POST /$batch 202", close),
            close => Assert.StartsWith("POST /$batch 202", close),
            close => Assert.StartsWith("POST /$batch 202", close),
            removal => Assert.StartsWith("POST /$batch 202", removal));
        _outbox.Verify(o => o.PublishPendingAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        _outbox.Verify(o => o.DispatchAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        foreach (var reference in sales)
        {
            Assert.Empty(await RowsOfAsync(reference));
            Assert.Null((await _core.Store.LoadAsync(reference, default))!.DueAt);
            Assert.False(await _core.Store.HasUnsentOutboxAsync(reference, default));
            // The money rule stays: the aggregate was compared before the sale was forgotten.
            _core.Vipps.Verify(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>()), Times.Once);
        }
    }

    [Fact]
    public async Task Closing_sales_this_instance_does_not_know_costs_one_query_and_one_write_each()
    {
        var sales = new List<string>();
        for (var n = 0; n < 3; n++)
        {
            var (machineId, reference) = await AuthorizedSaleAsync();
            await CaptureAsync(machineId, reference);
            sales.Add(reference);
            // Restarted (or another instance): nothing known of the sale here, its last event not yet marked sent.
            _core.Cache.Remove(reference);
            Assert.True(await _core.Store.HasUnsentOutboxAsync(reference, default));
        }

        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        _log.Clear();
        await _core.Reconciler.RunOnceAsync(default);
        var requests = _log.Requests;

        // Per sale one query (the state row and the unsent outbox rows together) and the close batch, whose "sent" marks
        // cover what that query found and the visit published; then one removal batch for all.
        Assert.Equal("GET /OpenSales()", requests[0][..16]);
        Assert.Equal(3, requests.Count(request => request.StartsWith("GET /Sales() 200", StringComparison.Ordinal)));
        Assert.Equal(3 + 1, requests.Count(request => request.StartsWith("POST /$batch 202", StringComparison.Ordinal)));
        Assert.Equal(1 + 3 + 3 + 1, requests.Count);
        _outbox.Verify(o => o.PublishPendingAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        foreach (var reference in sales)
        {
            Assert.Empty(await RowsOfAsync(reference));
            Assert.False(await _core.Store.HasUnsentOutboxAsync(reference, default));
        }
    }

    [Fact]
    public async Task A_row_a_commit_left_behind_goes_with_the_removals_of_the_sales_next_visit_without_a_read()
    {
        var machine = CoreHarness.Machine();
        var reference = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        await _core.Reconciler.RunOnceAsync(default); // still CREATED at Vipps: moved on to its expiry (row E, written here)
        var expiryRow = Assert.Single(await RowsOfAsync(reference));
        AggregateAgrees(reference);
        // Authorized: the sale now needs the reconciler at its vend deadline, earlier than E, so the commit lists it
        // there and leaves E behind (no delete on the request path).
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED") with { Timestamp = _core.Time.Now }, default);
        Assert.Equal(2, (await RowsOfAsync(reference)).Count);
        await CaptureAsync(machine.MachineId, reference);

        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.VendReportDeadlineSeconds));
        _log.Clear();
        await _core.Reconciler.RunOnceAsync(default);

        // The query, the close, and one removal batch holding the visited row and row E. No read, no visit of E.
        Assert.Collection(_log.Requests,
            query => Assert.StartsWith("GET /OpenSales()", query),
            close => Assert.StartsWith("POST /$batch 202", close),
            removal => Assert.StartsWith("POST /$batch 202", removal));
        Assert.Empty(await RowsOfAsync(reference));
        Assert.Null((await _core.Store.LoadAsync(reference, default))!.DueAt);
        Assert.True(expiryRow.DueAt > _core.Time.Now);
    }

    [Fact]
    public async Task A_stale_row_this_instance_does_not_know_costs_one_read_and_no_Vipps_call()
    {
        var machine = CoreHarness.Machine();
        var reference = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        _core.Time.Advance(Vending.Core.Sales.DueSchedule.CreatedCheck);
        await _core.Reconciler.RunOnceAsync(default); // moves the sale to its expiry (row E)
        var expiryRow = Assert.Single(await RowsOfAsync(reference));
        AggregateAgrees(reference);
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED") with { Timestamp = _core.Time.Now }, default);
        // Another instance carries on with the sale: this one's knowledge of row E is gone with its cache entry.
        _core.Cache.Remove(reference);
        await CaptureAsync(machine.MachineId, reference);
        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.VendReportDeadlineSeconds));
        await _core.Reconciler.RunOnceAsync(default); // closes the sale at its vend-deadline row; E is not known here
        Assert.Null((await _core.Store.LoadAsync(reference, default))!.DueAt);
        Assert.Equal(expiryRow.RowKey, Assert.Single(await RowsOfAsync(reference)).RowKey);

        _core.Time.Now = expiryRow.DueAt;
        _core.Cache.Remove(reference);
        _core.Vipps.Invocations.Clear();
        _outbox.Invocations.Clear();
        _log.Clear();
        var report = await _core.Reconciler.RunOnceAsync(default);

        Assert.Equal(1, report.Examined);
        // The query, the sale's state row read (another instance might have moved the sale onto this very row; one
        // query that also brings unsent outbox rows), and the row's removal. No rule ran on the closed sale: Vipps was
        // not asked anything.
        Assert.Collection(_log.Requests,
            query => Assert.StartsWith("GET /OpenSales()", query),
            read => Assert.StartsWith("GET /Sales() 200", read),
            delete => Assert.StartsWith("DELETE /OpenSales", delete));
        Assert.Empty(_core.Vipps.Invocations);
        // Closed means every event was published before (a later step would have listed the sale again).
        Assert.Empty(_outbox.Invocations);
        Assert.Empty(await RowsOfAsync(reference));
    }
}
