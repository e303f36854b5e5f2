using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Vending.Core.Events;
using Vending.Core.Storage;
using Vending.Testing;

namespace Vending.Core.Tests.Events;

/// <summary>Each test walks every due row of the OpenSales index, so each starts its own empty Azurite.</summary>
public class OutboxSweepTests
{
    // Due in this order (OutboxTestData lists a sale due by the sum of its reference's characters).
    private const string SaleA = "vm-a-aaaaaaaaaaaaaaaa";
    private const string SaleB = "vm-b-aaaaaaaaaaaaaaaa";
    private const string SaleC = "vm-c-aaaaaaaaaaaaaaaa";

    [Fact]
    public async Task A_later_sweep_sends_what_a_refused_send_left_pending_exactly_once()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = await OutboxTestData.TablesAsync(azurite.ConnectionString);
        var reference = SaleA;
        await OutboxTestData.InsertPendingAsync(tables, reference, 1, 2, 3);
        var sender = new RecordingSender { Refuse = m => m.MessageId == $"{SaleA}-000002" };
        var dispatcher = Dispatcher(tables, sender, sweepBatchSize: 100);

        Assert.Equal(1, await dispatcher.DispatchAsync(reference, CancellationToken.None));
        sender.Refuse = _ => false;
        Assert.Equal(2, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal(0, await dispatcher.SweepAsync(CancellationToken.None));

        Assert.Equal([$"{SaleA}-000001", $"{SaleA}-000002", $"{SaleA}-000003"], sender.Accepted.Select(m => m.MessageId));
        Assert.Equal(
            new Dictionary<long, bool> { [1] = true, [2] = true, [3] = true },
            await OutboxTestData.SentFlagsAsync(tables, reference));
    }

    [Fact]
    public async Task One_sale_that_cannot_be_published_does_not_hold_up_the_others()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = await OutboxTestData.TablesAsync(azurite.ConnectionString);
        await OutboxTestData.InsertPendingAsync(tables, SaleA, 1);
        await OutboxTestData.InsertPendingAsync(tables, SaleB, 1, 2);
        var sender = new RecordingSender { Refuse = m => m.SessionId == SaleA };

        var published = await Dispatcher(tables, sender, sweepBatchSize: 100).SweepAsync(CancellationToken.None);

        Assert.Equal(2, published);
        Assert.Equal([$"{SaleB}-000001", $"{SaleB}-000002"], sender.Accepted.Select(m => m.MessageId));
        Assert.Equal(new Dictionary<long, bool> { [1] = false }, await OutboxTestData.SentFlagsAsync(tables, SaleA));
    }

    [Fact]
    public async Task A_bounded_sweep_continues_where_the_previous_one_stopped_and_wraps_around()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = await OutboxTestData.TablesAsync(azurite.ConnectionString);
        foreach (var reference in new[] { SaleA, SaleB, SaleC })
        {
            await OutboxTestData.InsertPendingAsync(tables, reference, 1);
        }

        var sender = new RecordingSender();
        var dispatcher = Dispatcher(tables, sender, sweepBatchSize: 2);

        Assert.Equal(2, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal([SaleA, SaleB], sender.Accepted.Select(m => m.SessionId));

        Assert.Equal(1, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal(SaleC, sender.Accepted[^1].SessionId);

        // Back at the start: a new event of sale-a is found again.
        await tables.GetTableClient(OutboxRows.SalesTable).AddEntityAsync(OutboxRows.ToEntity(OutboxTestData.Event(SaleA, 2)));
        Assert.Equal(1, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal($"{SaleA}-000002", sender.Accepted[^1].MessageId);
    }

    [Fact]
    public async Task A_sweep_without_the_OpenSales_table_finds_nothing_to_do()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = new TableServiceClient(azurite.ConnectionString);
        var sender = new RecordingSender();

        Assert.Equal(0, await Dispatcher(tables, sender, sweepBatchSize: 10).SweepAsync(CancellationToken.None));
        Assert.Empty(sender.Attempts);
    }

    private static OutboxDispatcher Dispatcher(TableServiceClient tables, RecordingSender sender, int sweepBatchSize) => new(
        new PendingOutboxTable(tables),
        new ServiceBusPaymentEventPublisher(sender.Mock.Object, NullLogger<ServiceBusPaymentEventPublisher>.Instance),
        Options.Create(new PaymentEventsOptions { SweepBatchSize = sweepBatchSize }),
        TimeProvider.System,
        NullLogger<OutboxDispatcher>.Instance);
}
