using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Events;
using Vending.Core.Storage;

namespace Vending.Core.Tests.Events;

public class OutboxDispatcherTests(EventsAzuriteFixture azurite) : IClassFixture<EventsAzuriteFixture>
{
    private readonly TableServiceClient _tables = azurite.Tables;

    [Fact]
    public async Task Each_pending_row_becomes_one_message_with_stable_id_subject_session_and_properties()
    {
        var reference = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 1, 2);
        var sender = new RecordingSender();

        var published = await Dispatcher(sender).DispatchAsync(reference, CancellationToken.None);

        Assert.Equal(2, published);
        Assert.Equal(2, sender.Accepted.Count);
        var message = sender.Accepted[1];
        Assert.Equal($"{reference}-000002", message.MessageId);
        Assert.Equal("vending.sale.authorized.v1", message.Subject);
        Assert.Equal(reference, message.SessionId);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("machine-7", message.ApplicationProperties["machineId"]);
        Assert.Equal("merchant-1", message.ApplicationProperties["merchantId"]);
        Assert.Equal(2L, message.ApplicationProperties["sequence"]);

        using var body = JsonDocument.Parse(message.Body.ToString());
        var root = body.RootElement;
        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal(message.MessageId, root.GetProperty("id").GetString());
        Assert.Equal("vending.sale.authorized.v1", root.GetProperty("type").GetString());
        Assert.Equal("/vending/machines/machine-7", root.GetProperty("source").GetString());
        Assert.Equal("2026-11-27T10:15:32.0000000Z", root.GetProperty("time").GetString());
        Assert.Equal(reference, root.GetProperty("subject").GetString());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(reference, data.GetProperty("reference").GetString());
        Assert.Equal("machine-7", data.GetProperty("machineId").GetString());
        Assert.Equal("merchant-1", data.GetProperty("merchantId").GetString());
        Assert.Equal("Authorized", data.GetProperty("state").GetString());
        Assert.Equal("NOK", data.GetProperty("currency").GetString());
        Assert.Equal(2500, data.GetProperty("amount").GetInt64());
        Assert.Equal(2500, data.GetProperty("authorizedAmount").GetInt64());
        Assert.Equal(0, data.GetProperty("capturedAmount").GetInt64());
        Assert.Equal(0, data.GetProperty("cancelledAmount").GetInt64());
        Assert.Equal(0, data.GetProperty("refundedAmount").GetInt64());
        Assert.Equal(2, data.GetProperty("sequence").GetInt64());

        Assert.Equal(new Dictionary<long, bool> { [1] = true, [2] = true }, await OutboxTestData.SentFlagsAsync(_tables, reference));
    }

    [Fact]
    public async Task Rows_inserted_out_of_order_are_published_in_sequence_order()
    {
        var reference = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 3, 1, 2);
        var sender = new RecordingSender();

        await Dispatcher(sender).DispatchAsync(reference, CancellationToken.None);

        Assert.Equal(
            [$"{reference}-000001", $"{reference}-000002", $"{reference}-000003"],
            sender.Accepted.Select(m => m.MessageId));
    }

    [Fact]
    public async Task Sent_rows_and_other_rows_of_the_partition_are_not_published()
    {
        var reference = OutboxTestData.NewReference();
        var other = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 1, 2);
        await OutboxTestData.InsertPendingAsync(_tables, other, 1);
        var sales = _tables.GetTableClient(OutboxRows.SalesTable);
        // Rows outside the sale's outbox range carry Sent = false too, so only the RowKey range keeps them out.
        var partition = OutboxRows.Partition(reference);
        await sales.AddEntityAsync(new TableEntity(partition, $"s-{reference}") { ["Sent"] = false, ["State"] = "Authorized" });
        await sales.AddEntityAsync(new TableEntity(partition, $"s-{reference}-h-000001") { ["Sent"] = false });
        var sender = new RecordingSender();
        var dispatcher = Dispatcher(sender);

        Assert.Equal(2, await dispatcher.DispatchAsync(reference, CancellationToken.None));
        Assert.Equal(0, await dispatcher.DispatchAsync(reference, CancellationToken.None));

        Assert.Equal([$"{reference}-000001", $"{reference}-000002"], sender.Accepted.Select(m => m.MessageId));
        Assert.Equal(new Dictionary<long, bool> { [1] = false }, await OutboxTestData.SentFlagsAsync(_tables, other));
    }

    [Fact]
    public async Task A_refused_send_stops_the_sale_there_and_leaves_the_rest_pending()
    {
        var reference = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 1, 2, 3);
        var sender = new RecordingSender { Refuse = m => m.MessageId.EndsWith("-000002", StringComparison.Ordinal) };

        var published = await Dispatcher(sender).DispatchAsync(reference, CancellationToken.None);

        Assert.Equal(1, published);
        // Row 3 is not even tried: sending it before row 2 would break the sale's order.
        Assert.Equal([$"{reference}-000001", $"{reference}-000002"], sender.Attempts);
        Assert.Equal(
            new Dictionary<long, bool> { [1] = true, [2] = false, [3] = false },
            await OutboxTestData.SentFlagsAsync(_tables, reference));
    }

    [Fact]
    public async Task A_row_marked_by_a_concurrent_dispatcher_is_not_an_error()
    {
        var reference = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 1, 2);
        var sales = _tables.GetTableClient(OutboxRows.SalesTable);
        var publishedIds = new List<string>();
        var publisher = new Mock<IPaymentEventPublisher>();
        publisher.Setup(p => p.PublishAsync(It.IsAny<OutboxEvent>(), It.IsAny<CancellationToken>()))
            .Returns<OutboxEvent, CancellationToken>(async (outboxEvent, token) =>
            {
                publishedIds.Add(outboxEvent.EventId);
                if (outboxEvent.Sequence == 1)
                {
                    // Another dispatcher publishes and marks row 1 while this one is sending it: the row's ETag moves.
                    await sales.UpdateEntityAsync(
                        new TableEntity(OutboxRows.Partition(reference), OutboxRows.RowKey(reference, 1)) { ["Sent"] = true }, ETag.All, TableUpdateMode.Merge, token);
                }
            });
        var dispatcher = new OutboxDispatcher(
            new PendingOutboxTable(_tables), publisher.Object, Options.Create(new PaymentEventsOptions()), TimeProvider.System, NullLogger<OutboxDispatcher>.Instance);

        var published = await dispatcher.DispatchAsync(reference, CancellationToken.None);

        Assert.Equal(2, published);
        Assert.Equal([$"{reference}-000001", $"{reference}-000002"], publishedIds);
        Assert.Equal(new Dictionary<long, bool> { [1] = true, [2] = true }, await OutboxTestData.SentFlagsAsync(_tables, reference));
    }

    [Fact]
    public async Task Marking_records_when_the_row_was_sent()
    {
        var reference = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 1);
        var now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        var dispatcher = new OutboxDispatcher(
            new PendingOutboxTable(_tables),
            new ServiceBusPaymentEventPublisher(new RecordingSender().Mock.Object, NullLogger<ServiceBusPaymentEventPublisher>.Instance),
            Options.Create(new PaymentEventsOptions()),
            new FixedTime(now),
            NullLogger<OutboxDispatcher>.Instance);

        await dispatcher.DispatchAsync(reference, CancellationToken.None);

        var row = await _tables.GetTableClient(OutboxRows.SalesTable).GetEntityAsync<TableEntity>(OutboxRows.Partition(reference), OutboxRows.RowKey(reference, 1));
        Assert.Equal(now, row.Value.GetDateTimeOffset("SentAt"));
    }

    [Fact]
    public async Task The_local_sink_receives_a_sales_events_as_lines_in_sequence_order()
    {
        var reference = OutboxTestData.NewReference();
        await OutboxTestData.InsertPendingAsync(_tables, reference, 2, 3, 1);
        var folder = Path.Combine(Path.GetTempPath(), "vending-events-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var sink = new LocalFilePaymentEventPublisher(Path.Combine(folder, "events.jsonl"), NullLogger<LocalFilePaymentEventPublisher>.Instance);
            var dispatcher = new OutboxDispatcher(
                new PendingOutboxTable(_tables), sink, Options.Create(new PaymentEventsOptions()), TimeProvider.System, NullLogger<OutboxDispatcher>.Instance);

            await dispatcher.DispatchAsync(reference, CancellationToken.None);

            var ids = (await File.ReadAllLinesAsync(sink.Path))
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString());
            Assert.Equal([$"{reference}-000001", $"{reference}-000002", $"{reference}-000003"], ids);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private OutboxDispatcher Dispatcher(RecordingSender sender) => new(
        new PendingOutboxTable(_tables),
        new ServiceBusPaymentEventPublisher(sender.Mock.Object, NullLogger<ServiceBusPaymentEventPublisher>.Instance),
        Options.Create(new PaymentEventsOptions()),
        TimeProvider.System,
        NullLogger<OutboxDispatcher>.Instance);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
