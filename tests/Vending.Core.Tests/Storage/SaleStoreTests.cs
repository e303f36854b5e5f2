using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Vending.Core.Events;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Sales;

namespace Vending.Core.Tests.Storage;

[Collection(nameof(AzuriteCollection))]
public class SaleStoreTests(AzuriteFixture azurite)
{
    private static Sale NewSale(string reference, Sale? template = null) =>
        (template ?? SaleExamples.Created()) with { Reference = reference, MachineId = SaleEntities.Partition(reference) };

    /// <summary>A sale of its own machine (a partition of its own).</summary>
    private static string UniqueReference() => SaleReferences.New("t-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task A_transition_writes_state_history_and_outbox_in_one_partition()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        await store.InsertAsync(NewSale(reference), default);

        var result = await store.ApplyAsync(reference, SaleExamples.VippsEvent(VippsEventKind.Authorized), "w-AUTHORIZED-psp1", default);

        Assert.Equal(TransitionOutcome.Recorded, result.Outcome);
        var stored = await store.GetAsync(reference, default);
        Assert.Equal(SaleState.Authorized, stored!.State);
        var partition = SaleEntities.Partition(reference);
        var rows = azurite.Table(TableNames.Sales).Query<TableEntity>(row => row.PartitionKey == partition).Select(row => row.RowKey).ToList();
        Assert.Contains($"s-{reference}-w-AUTHORIZED-psp1", rows);
        Assert.Contains($"s-{reference}-h-{stored.HistorySequence:D6}", rows);
        var outbox = azurite.Table(TableNames.Sales).GetEntity<TableEntity>(partition, $"s-{reference}-o-{stored.OutboxSequence:D6}").Value;
        Assert.Equal("vending.sale.authorized.v1", outbox.GetString("Type"));
        Assert.False(outbox.GetBoolean("Sent"));
        Assert.Equal(SaleState.Authorized.ToString(), OutboxRows.ToEvent(outbox).State);
        Assert.True(await store.HasUnsentOutboxAsync(reference, default));
    }

    [Fact]
    public async Task The_same_webhook_twice_is_absorbed_as_a_duplicate()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        await store.InsertAsync(NewSale(reference, SaleExamples.Expired()), default);
        // EXPIRED on an expired sale records a confirmation each time it is decided: only the dedupe row stops a second one.
        var expired = SaleExamples.VippsEvent(VippsEventKind.Expired);

        var first = await store.ApplyAsync(reference, expired, "w-EXPIRED-psp9", default);
        var second = await store.ApplyAsync(reference, expired, "w-EXPIRED-psp9", default);

        Assert.Equal(TransitionOutcome.Recorded, first.Outcome);
        Assert.Equal(TransitionOutcome.Duplicate, second.Outcome);
        var history = await store.GetHistoryAsync(reference, default);
        Assert.Single(history, entry => entry.Type == "vipps_expired");
    }

    [Fact]
    public async Task The_same_webhook_delivered_concurrently_is_recorded_once()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        await store.InsertAsync(NewSale(reference, SaleExamples.Expired()), default);
        var expired = SaleExamples.VippsEvent(VippsEventKind.Expired);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.ApplyAsync(reference, expired, "w-EXPIRED-psp7", default)));

        Assert.Single(results, result => result.Outcome == TransitionOutcome.Recorded);
        Assert.All(results.Where(result => result.Outcome != TransitionOutcome.Recorded), result => Assert.Equal(TransitionOutcome.Duplicate, result.Outcome));
        Assert.Single(await store.GetHistoryAsync(reference, default), entry => entry.Type == "vipps_expired");
    }

    [Fact]
    public async Task Two_authorization_webhooks_racing_authorize_once()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        await store.InsertAsync(NewSale(reference), default);

        var results = await Task.WhenAll(
            store.ApplyAsync(reference, SaleExamples.VippsEvent(VippsEventKind.Authorized) with { PspReference = "a" }, "w-AUTHORIZED-a", default),
            store.ApplyAsync(reference, SaleExamples.VippsEvent(VippsEventKind.Authorized) with { PspReference = "b" }, "w-AUTHORIZED-b", default));

        Assert.Single(results, result => result.Outcome == TransitionOutcome.Recorded);
        Assert.Single(results, result => result.Outcome == TransitionOutcome.Ignored);
        var (partition, from, to) = (SaleEntities.Partition(reference), OutboxRows.RangeStart(reference), OutboxRows.RangeEnd(reference));
        var outbox = azurite.Table(TableNames.Sales).Query<TableEntity>(row => row.PartitionKey == partition && row.RowKey.CompareTo(from) >= 0 && row.RowKey.CompareTo(to) < 0).ToList();
        Assert.Single(outbox, row => row.GetString("Type") == "vending.sale.authorized.v1");
    }

    [Fact]
    public async Task Racing_transitions_lose_no_update()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        var sale = await store.InsertAsync(NewSale(reference, SaleExamples.Captured()), default);

        // Each distinct divergence records a history row; all of them must land, in a gapless sequence.
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => store.ApplyAsync(reference, new DivergenceObserved($"detail {i}"), null, default)));

        Assert.All(results, result => Assert.Equal(TransitionOutcome.Recorded, result.Outcome));
        var history = await store.GetHistoryAsync(reference, default);
        Assert.Equal(Enumerable.Range((int)sale.HistorySequence, 7).Select(i => (long)i), history.Select(entry => entry.Sequence));
        Assert.Equal(6, history.Count(entry => entry.Type == "divergence"));
    }

    [Fact]
    public async Task A_transition_whose_etag_went_stale_is_decided_again_on_the_fresh_state()
    {
        var reference = UniqueReference();
        var setup = azurite.Store();
        await setup.InsertAsync(NewSale(reference, SaleExamples.Authorized()), default);

        // Between our read and our write, the machine's cancel lands (through another store, as another instance would).
        var interfering = new InterferingTime(() => setup.ApplyAsync(reference, new MachineCancelRequested(), null, default).GetAwaiter().GetResult());
        var store = azurite.Store(interfering);

        var result = await store.ApplyAsync(reference, new VendReported(new VendReport(VendOutcome.Delivered, null)), null, default);

        Assert.True(interfering.Interfered);
        Assert.Equal(TransitionOutcome.Refused, result.Outcome);
        Assert.Equal("sale_closed", result.Decision!.Refusal!.Code);
        var stored = await setup.GetAsync(reference, default);
        Assert.True(stored!.CancelRequested);
        Assert.DoesNotContain(stored.Operations, operation => operation.Kind == OperationKind.Capture);
    }

    [Fact]
    public async Task A_failing_row_rolls_back_the_whole_transition()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        var sale = await store.InsertAsync(NewSale(reference), default);
        // A stray outbox row where the transition's own will go: its insert conflicts.
        var partition = SaleEntities.Partition(reference);
        await azurite.Table(TableNames.Sales).AddEntityAsync(new TableEntity(partition, OutboxRows.RowKey(reference, sale.OutboxSequence + 1)) { ["Type"] = "stray" });

        await Assert.ThrowsAsync<TableTransactionFailedException>(() =>
            store.ApplyAsync(reference, SaleExamples.VippsEvent(VippsEventKind.Authorized), "w-AUTHORIZED-x", default));

        var stored = await store.GetAsync(reference, default);
        Assert.Equal(SaleState.Created, stored!.State);
        Assert.Equal(sale.HistorySequence, stored.HistorySequence);
        var rows = azurite.Table(TableNames.Sales).Query<TableEntity>(row => row.PartitionKey == partition).Select(row => row.RowKey).ToList();
        Assert.DoesNotContain(SaleEntities.DedupeRowKey(reference, "w-AUTHORIZED-x"), rows);
        Assert.DoesNotContain(SaleEntities.HistoryRowKey(reference, sale.HistorySequence + 1), rows);
    }

    [Fact]
    public async Task A_write_that_landed_but_lost_its_answer_counts_as_recorded()
    {
        var reference = UniqueReference();
        var replay = new ReplayFirstBatch();
        var store = azurite.Store(null, replay);
        await store.InsertAsync(NewSale(reference), default);
        replay.Armed = true;

        var result = await store.ApplyAsync(reference, SaleExamples.VippsEvent(VippsEventKind.Authorized), "w-AUTHORIZED-r", default);

        Assert.True(replay.Replayed);
        Assert.Equal(TransitionOutcome.Recorded, result.Outcome);
        Assert.Equal(SaleState.Authorized, (await store.GetAsync(reference, default))!.State);
        Assert.Single(await store.GetHistoryAsync(reference, default), entry => entry.Type == "vipps_authorized");
    }

    [Fact]
    public async Task Inserting_the_same_sale_again_returns_the_stored_one()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        var first = await store.InsertAsync(NewSale(reference), default);
        await store.ApplyAsync(reference, SaleExamples.VippsEvent(VippsEventKind.Authorized), null, default);

        var again = await store.InsertAsync(NewSale(reference), default);

        Assert.Equal(SaleState.Authorized, again.State);
        Assert.Equal(first.Lines, again.Lines);
    }

    [Fact]
    public async Task A_sale_round_trips_through_its_row()
    {
        var store = azurite.Store();
        var reference = UniqueReference();
        var partial = SaleExamples.Apply(SaleExamples.Authorized(), new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("cola", 1)]))) with { Reference = reference, MachineId = SaleEntities.Partition(reference) };
        await store.InsertAsync(partial, default);

        var read = await store.GetAsync(reference, default);

        Assert.Equal(partial with { Lines = [], Operations = [], Vend = null }, read! with { Lines = [], Operations = [], Vend = null });
        Assert.Equal(partial.Lines, read.Lines);
        Assert.Equal(partial.Operations, read.Operations);
        Assert.Equal(partial.Vend!.Outcome, read.Vend!.Outcome);
        Assert.Equal(partial.Vend.DeliveredLines, read.Vend.DeliveredLines);
    }

    /// <summary>Runs <paramref name="interfere"/> once, the first time the store asks for the time (between its read and its write).</summary>
    private sealed class InterferingTime(Action interfere) : TimeProvider
    {
        public bool Interfered { get; private set; }

        public override DateTimeOffset GetUtcNow()
        {
            if (!Interfered)
            {
                Interfered = true;
                interfere();
            }

            return base.GetUtcNow();
        }
    }
}
