using Moq;
using Vending.Core.Sales;
using Vending.Core.Tests.Storage;
using Vending.Vipps.EPayment;

namespace Vending.Core.Tests.Service;

[Collection(nameof(AzuriteCollection))]
public class ReconcilerTests(AzuriteFixture azurite)
{
    private readonly CoreHarness _core = new(azurite);

    private static PaymentDetails Details(string reference, string state, long captured = 0, long cancelled = 0) =>
        new(reference, state, new Amount("NOK", 8000),
            new Aggregate(new Amount("NOK", state == "AUTHORIZED" ? 8000 : 0), new Amount("NOK", cancelled), new Amount("NOK", captured), new Amount("NOK", 0)), "psp");

    /// <summary>The reconciler also passes over other tests' sales in the shared Azurite: look at this sale's commands only.</summary>
    private List<Vending.Core.Commands.SaleCommand> Mine(string reference) =>
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
        Assert.Equal(first, again);
        Assert.True(report.CommandsEnqueued >= 1);
    }

    [Fact]
    public async Task A_finished_sale_leaves_the_open_list_only_when_its_events_are_sent()
    {
        var (_, reference) = await CreatedSaleAsync();
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "ABORTED"), default);

        await _core.Reconciler.RunOnceAsync(default);
        Assert.Contains(await _core.OpenSales.ListAsync(10000, default), entry => entry.Reference == reference);

        var sales = azurite.Table(Vending.Core.Storage.TableNames.Sales);
        foreach (var row in sales.Query<Azure.Data.Tables.TableEntity>(row => row.PartitionKey == reference && row.RowKey.CompareTo("o-") >= 0 && row.RowKey.CompareTo("o.") < 0))
        {
            row["Sent"] = true;
            await sales.UpdateEntityAsync(row, row.ETag);
        }

        await _core.Reconciler.RunOnceAsync(default);
        Assert.DoesNotContain(await _core.OpenSales.ListAsync(10000, default), entry => entry.Reference == reference);
    }

    [Fact]
    public async Task A_divergence_from_the_Vipps_aggregate_is_recorded()
    {
        var (machineId, reference) = await CreatedSaleAsync();
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        await _core.RunCommandsAsync();
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, "AUTHORIZED", captured: 0));

        await _core.Reconciler.RunOnceAsync(default);
        await _core.Reconciler.RunOnceAsync(default);

        var history = await _core.Service.GetHistoryAsync(reference, default);
        Assert.Single(history, entry => entry.Type == "divergence");
    }
}
