using Azure.Data.Tables;
using Vending.Core.Events;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Sales;
using Vending.Core.Tests.Service;

namespace Vending.Core.Tests.Storage;

/// <summary>What a sale step costs in storage requests, counted on the wire (Azurite): the write path's promises.</summary>
[Collection(nameof(AzuriteCollection))]
public class WritePathCostTests(AzuriteFixture azurite)
{
    /// <summary>A sale of its own machine (a partition of its own).</summary>
    private static string UniqueReference() => SaleReferences.New("c-" + Guid.NewGuid().ToString("N")[..10]);

    private static Sale OnItsMachine(Sale sale, string reference) => sale with { Reference = reference, MachineId = SaleEntities.Partition(reference) };

    [Fact]
    public async Task A_duplicate_webhook_fails_on_its_dedupe_row_inside_the_batch_without_a_read_of_it()
    {
        var reference = UniqueReference();
        var first = azurite.Store();
        await first.InsertAsync(OnItsMachine(SaleExamples.Expired(), reference), default);
        // EXPIRED on an expired sale is recorded each time it is decided: only the dedupe row stops a repeat.
        var expired = SaleExamples.VippsEvent(VippsEventKind.Expired);
        Assert.Equal(TransitionOutcome.Recorded, (await first.ApplyAsync(reference, expired, "w-EXPIRED-d1", default)).Outcome);

        // The repeat lands on this instance, which wrote the sale: its cached row is current.
        var log = new RequestLog();
        var tables = azurite.Tables(log);
        await tables.GetAsync(TableNames.Sales, default); // the table check, once per process
        var again = new StoreInstance(tables, TimeProvider.System);
        again.Cache.Put((await first.Store.LoadAsync(reference, default))!);
        log.Clear();

        var result = await again.ApplyAsync(reference, expired, "w-EXPIRED-d1", default);

        Assert.Equal(TransitionOutcome.Duplicate, result.Outcome);
        // One request: the batch, refused on the dedupe row (409). No read of the state row, none of the dedupe row.
        var request = Assert.Single(log.Requests);
        Assert.StartsWith("POST /$batch", request);
        Assert.Single(await first.GetHistoryAsync(reference, default), entry => entry.Type == "vipps_expired");
    }

    [Fact]
    public async Task A_stale_cached_row_fails_its_etag_and_is_read_again_before_deciding_anew()
    {
        var reference = UniqueReference();
        var log = new RequestLog();
        var tables = azurite.Tables(log);
        var mine = new StoreInstance(tables, TimeProvider.System);
        await mine.InsertAsync(OnItsMachine(SaleExamples.Authorized(), reference), default);

        // Another instance records the machine's cancel; this instance's cached row does not know.
        var other = azurite.Store();
        Assert.Equal(TransitionOutcome.Recorded, (await other.ApplyAsync(reference, new MachineCancelRequested(), null, default)).Outcome);
        log.Clear();

        var result = await mine.ApplyAsync(reference, new VendReported(new VendReport(VendOutcome.Delivered, null)), null, default);

        // Decided on the cached row (a capture), refused by the ETag (412), read again, decided again: refused,
        // because the cancel already released the sale. Nothing of the stale decision was written.
        Assert.Equal(TransitionOutcome.Refused, result.Outcome);
        Assert.Equal("sale_closed", result.Decision!.Refusal!.Code);
        Assert.Collection(log.Requests,
            batch => Assert.StartsWith("POST /$batch 202", batch),
            read => Assert.StartsWith($"GET /Sales(PartitionKey='{SaleEntities.Partition(reference)}',RowKey='s-{reference}') 200", read));
        var stored = await other.GetAsync(reference, default);
        Assert.DoesNotContain(stored!.Operations, operation => operation.Kind == OperationKind.Capture);
        Assert.Null(stored.Vend);
    }

    [Fact]
    public async Task No_op_events_cost_no_storage_request()
    {
        var log = new RequestLog();
        var core = new CoreHarness(azurite, null, null, log);
        var machine = CoreHarness.Machine();
        var reference = (await core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        await core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        await core.Service.ReportVendAsync(machine.MachineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        await core.RunCommandsAsync();
        var captured = await core.SaleAsync(reference);
        Assert.Equal(SaleState.Captured, captured.State);
        var capture = Assert.Single(captured.Operations, operation => operation.Kind == OperationKind.Capture);
        log.Clear();

        // Vipps' CREATED, and its CAPTURED carrying our own completed capture's key (the command's answer came first).
        var created = await core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "CREATED"), default);
        var ours = await core.Service.RecordWebhookAsync("vippsno",
            CoreHarness.Event(reference, "CAPTURED", captured.CapturedAmount, "psp-cap", capture.IdempotencyKey), default);

        Assert.Equal((WebhookOutcome.Ignored, WebhookOutcome.Ignored), (created, ours));
        Assert.Empty(log.Requests);
        var history = await core.Store.GetHistoryAsync(reference, default);
        Assert.Equal("command_succeeded", history[^1].Type);
        Assert.DoesNotContain(history, entry => entry.Type is "vipps_created" or "vipps_captured");
    }

    [Fact]
    public async Task An_idle_reconciler_pass_reads_only_the_due_index()
    {
        var log = new RequestLog();
        var core = new CoreHarness(azurite, null, null, log);
        // Open sales that are not due yet: a pass must not read them.
        for (var i = 0; i < 5; i++)
        {
            await core.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(), default);
        }

        // A clock before every row of the shared tables: nothing is due.
        core.Time.Now = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        log.Clear();

        var report = await core.Reconciler.RunOnceAsync(default);

        Assert.Equal(0, report.Examined);
        var query = Assert.Single(log.Requests);
        Assert.StartsWith("GET /OpenSales()", query);
    }

    [Fact]
    public async Task A_step_on_an_instance_that_did_not_make_the_earlier_ones_publishes_them_with_one_query_and_marks_them_in_its_next_batch()
    {
        // Instance A creates the sale and records the authorization: its events leave from memory, their rows stay
        // unmarked until A's next batch, which never comes (the following steps land on B).
        var first = new CoreHarness(azurite, null, Dispatcher(azurite, new RecordingPublisher()));
        var machine = CoreHarness.Machine();
        var reference = (await first.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        await first.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);

        var log = new RequestLog();
        var published = new RecordingPublisher();
        var second = new CoreHarness(azurite, null, Dispatcher(azurite, published, log), log);
        await second.Store.LoadAsync(reference, default);
        log.Clear();

        await second.Service.ReportVendAsync(machine.MachineId, reference, new VendReport(VendOutcome.Delivered, null), default);

        // Every pending event, A's included, published in order after one query; no update per outbox row.
        var sales = log.Requests.Where(request => request.Contains(" /Sales(", StringComparison.Ordinal)).ToList();
        Assert.Single(sales, request => request.StartsWith("GET /Sales() ", StringComparison.Ordinal));
        Assert.DoesNotContain(sales, request => request.Split(' ')[0] is "PUT" or "PATCH" or "MERGE");
        // (A's first event was marked by A's own second batch; its authorization event was not, so B sends it too.)
        var vended = await second.SaleAsync(reference);
        var sent = published.Sequences;
        Assert.True(sent.Count >= 2, $"B published {sent.Count} event(s); A's unmarked one should be among them");
        Assert.Equal(Enumerable.Range((int)sent[0], sent.Count).Select(i => (long)i), sent);
        Assert.Equal(vended.OutboxSequence, sent[^1]);

        // B's next step (the capture's result) carries the marks in its batch.
        await second.RunCommandsAsync();
        Assert.Equal(SaleState.Captured, (await second.SaleAsync(reference)).State);
        var stillPending = await new PendingOutboxTable(azurite.Service()).PendingAsync(SaleEntities.Partition(reference), reference, default);
        Assert.All(stillPending, row => Assert.True(row.Event.Sequence > vended.OutboxSequence, $"event {row.Event.Sequence} is still unmarked"));
    }

    private static OutboxDispatcher Dispatcher(AzuriteFixture azurite, IPaymentEventPublisher publisher, params Azure.Core.Pipeline.HttpPipelinePolicy[] policies) =>
        new(new PendingOutboxTable(azurite.Service(policies)), publisher,
            Microsoft.Extensions.Options.Options.Create(new PaymentEventsOptions()), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OutboxDispatcher>.Instance);

    private sealed class RecordingPublisher : IPaymentEventPublisher
    {
        private readonly List<long> _sequences = [];

        public IReadOnlyList<long> Sequences
        {
            get
            {
                lock (_sequences)
                {
                    return [.. _sequences];
                }
            }
        }

        public Task PublishAsync(OutboxEvent outboxEvent, CancellationToken cancellationToken)
        {
            lock (_sequences)
            {
                _sequences.Add(outboxEvent.Sequence);
            }

            return Task.CompletedTask;
        }
    }
}
