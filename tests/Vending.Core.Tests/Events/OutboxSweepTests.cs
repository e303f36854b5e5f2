using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Vending.Core.Events;
using Vending.Testing;

namespace Vending.Core.Tests.Events;

/// <summary>Each test walks every due row of the OpenSales index, so each starts its own empty Azurite.</summary>
public class OutboxSweepTests
{
    [Fact]
    public async Task A_later_sweep_sends_what_a_refused_send_left_pending_exactly_once()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = await OutboxTestData.TablesAsync(azurite.ConnectionString);
        const string reference = "sale-a";
        await OutboxTestData.InsertPendingAsync(tables, reference, 1, 2, 3);
        var sender = new RecordingSender { Refuse = m => m.MessageId == "sale-a-000002" };
        var dispatcher = Dispatcher(tables, sender, sweepBatchSize: 100);

        Assert.Equal(1, await dispatcher.DispatchAsync(reference, CancellationToken.None));
        sender.Refuse = _ => false;
        Assert.Equal(2, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal(0, await dispatcher.SweepAsync(CancellationToken.None));

        Assert.Equal(["sale-a-000001", "sale-a-000002", "sale-a-000003"], sender.Accepted.Select(m => m.MessageId));
        Assert.Equal(
            new Dictionary<long, bool> { [1] = true, [2] = true, [3] = true },
            await OutboxTestData.SentFlagsAsync(tables, reference));
    }

    [Fact]
    public async Task One_sale_that_cannot_be_published_does_not_hold_up_the_others()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = await OutboxTestData.TablesAsync(azurite.ConnectionString);
        await OutboxTestData.InsertPendingAsync(tables, "sale-a", 1);
        await OutboxTestData.InsertPendingAsync(tables, "sale-b", 1, 2);
        var sender = new RecordingSender { Refuse = m => m.SessionId == "sale-a" };

        var published = await Dispatcher(tables, sender, sweepBatchSize: 100).SweepAsync(CancellationToken.None);

        Assert.Equal(2, published);
        Assert.Equal(["sale-b-000001", "sale-b-000002"], sender.Accepted.Select(m => m.MessageId));
        Assert.Equal(new Dictionary<long, bool> { [1] = false }, await OutboxTestData.SentFlagsAsync(tables, "sale-a"));
    }

    [Fact]
    public async Task A_bounded_sweep_continues_where_the_previous_one_stopped_and_wraps_around()
    {
        await using var azurite = await Azurite.StartAsync();
        var tables = await OutboxTestData.TablesAsync(azurite.ConnectionString);
        foreach (var reference in new[] { "sale-a", "sale-b", "sale-c" })
        {
            await OutboxTestData.InsertPendingAsync(tables, reference, 1);
        }

        var sender = new RecordingSender();
        var dispatcher = Dispatcher(tables, sender, sweepBatchSize: 2);

        Assert.Equal(2, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal(["sale-a", "sale-b"], sender.Accepted.Select(m => m.SessionId));

        Assert.Equal(1, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal("sale-c", sender.Accepted[^1].SessionId);

        // Back at the start: a new event of sale-a is found again.
        await tables.GetTableClient(OutboxRows.SalesTable).AddEntityAsync(OutboxRows.ToEntity(OutboxTestData.Event("sale-a", 2)));
        Assert.Equal(1, await dispatcher.SweepAsync(CancellationToken.None));
        Assert.Equal("sale-a-000002", sender.Accepted[^1].MessageId);
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
        tables,
        new ServiceBusPaymentEventPublisher(sender.Mock.Object, NullLogger<ServiceBusPaymentEventPublisher>.Instance),
        Options.Create(new PaymentEventsOptions { SweepBatchSize = sweepBatchSize }),
        TimeProvider.System,
        NullLogger<OutboxDispatcher>.Instance);
}
