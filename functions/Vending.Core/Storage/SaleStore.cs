using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Vending.Core.Events;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>The <c>Sales</c> table: one partition per machine holding its sales' rows (<see cref="SaleEntities"/>), one
/// entity-group transaction per sale step, the create included (SaleStore.Create.cs). Storage only: deciding is
/// <see cref="SaleRecorder"/>'s.</summary>
public sealed partial class SaleStore(VendingTables tables, SaleRowCache cache, ILogger<SaleStore> logger) : ISaleStore
{
    public async Task<Sale?> GetAsync(string reference, CancellationToken cancellationToken) =>
        (await LoadAsync(reference, cancellationToken))?.Sale;

    public Sale? CachedOrNull(string reference) => cache.TryGet(reference)?.Sale;

    public async Task<StoredSale?> LoadCachedAsync(string reference, CancellationToken cancellationToken) =>
        cache.TryGet(reference) ?? await LoadAsync(reference, cancellationToken);

    public async Task<(StoredSale? Stored, IReadOnlyList<OutboxEvent> Pending)> LoadWithPendingOutboxAsync(string reference, CancellationToken cancellationToken)
    {
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            return (null, []);
        }

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        // The sale's own rows of its machine's partition: the state row or an unsent outbox row.
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and (RowKey eq {SaleEntities.StateRowKey(reference)} or (RowKey ge {OutboxRows.RangeStart(reference)} and RowKey lt {OutboxRows.RangeEnd(reference)} and Sent eq {false}))");
        StoredSale? stored = null;
        var pending = new List<OutboxEvent>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == SaleEntities.StateRowKey(reference))
            {
                stored = Remember(new StoredSale(SaleEntities.FromEntity(row), row.ETag, row.GetString(SaleEntities.TransitionIdProperty), SaleEntities.DueAt(row)));
            }
            else
            {
                pending.Add(OutboxRows.ToEvent(row));
            }
        }

        if (stored is null)
        {
            cache.Remove(reference);
        }

        return (stored, pending.OrderBy(e => e.Sequence).ToList());
    }

    public async Task<CommitResult> CommitAsync(StoredSale loaded, SaleDecision decision, string? dedupeRowKey, DateTimeOffset? dueAt,
        IReadOnlyList<long> markSent, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var transitionId = Guid.NewGuid().ToString("N");
        var actions = Actions(decision, loaded.ETag, transitionId, dueAt, dedupeRowKey, markSent).ToList();
        try
        {
            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            return new CommitResult(CommitOutcome.Committed, Remember(new StoredSale(decision.Sale, ETagOf(response, 0), transitionId, dueAt)));
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412)
        {
            // The dedupe row is action 2: its conflict is the repeat, told by the batch itself (no read beforehand).
            if (dedupeRowKey is not null && exception.FailedTransactionActionIndex == 2)
            {
                return new CommitResult(CommitOutcome.Duplicate, null);
            }

            var now = await LoadAsync(loaded.Sale.Reference, cancellationToken);
            if (now?.TransitionId == transitionId)
            {
                // Our write landed; only its (SDK-retried) answer was lost.
                return new CommitResult(CommitOutcome.Committed, now);
            }

            if (now is not null && now.ETag == loaded.ETag && exception.FailedTransactionActionIndex is > 0 && exception.FailedTransactionActionIndex != 2)
            {
                // The state row is as loaded, so another row of the batch conflicts: deciding again cannot help.
                throw;
            }

            if (dedupeRowKey is not null && exception.FailedTransactionActionIndex is null
                && await DedupeExistsAsync(loaded.Sale.Reference, dedupeRowKey, cancellationToken))
            {
                return new CommitResult(CommitOutcome.Duplicate, null);
            }

            logger.LogDebug("Sale {Reference} changed since it was loaded (status {Status})", loaded.Sale.Reference, exception.Status);
            return new CommitResult(CommitOutcome.Stale, now);
        }
    }

    public async Task<StoredSale?> SetDueAsync(StoredSale loaded, DateTimeOffset? dueAt, IReadOnlyList<long> markSent, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var reference = loaded.Sale.Reference;
        var actions = new List<TableTransactionAction>
        {
            // The whole row as loaded (the ETag proves it is what is stored) with the new due time: a merge cannot
            // remove a property, and a closed sale has none.
            new(TableTransactionActionType.UpdateReplace, SaleEntities.ToEntity(loaded.Sale, loaded.TransitionId ?? "", dueAt), loaded.ETag),
        };
        actions.AddRange(Marks(reference, markSent));
        try
        {
            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            return Remember(loaded with { ETag = ETagOf(response, 0), DueAt = dueAt });
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412 or 404)
        {
            cache.Remove(reference);
            return null;
        }
    }

    public async Task<bool> DedupeExistsAsync(string reference, string dedupeRowKey, CancellationToken cancellationToken)
    {
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            return false;
        }

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partition, SaleEntities.DedupeRowKey(reference, dedupeRowKey), select: ["RowKey"], cancellationToken);
        return response.HasValue;
    }

    public async Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken)
    {
        var history = new List<SaleHistoryEntry>();
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            return history;
        }

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var start = SaleEntities.HistoryRangeStart(reference);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {start} and RowKey lt {TableKeys.RangeEnd(start)}");
        history = new List<SaleHistoryEntry>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            history.Add(SaleEntities.HistoryFromEntity(row));
        }

        return history.OrderBy(entry => entry.Sequence).ToList();
    }

    public async Task<bool> HasUnsentOutboxAsync(string reference, CancellationToken cancellationToken)
    {
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            return false;
        }

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {OutboxRows.RangeStart(reference)} and RowKey lt {OutboxRows.RangeEnd(reference)} and Sent eq {false}");
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            return true;
        }

        return false;
    }

    private static IEnumerable<TableTransactionAction> Actions(SaleDecision decision, ETag etag, string transitionId, DateTimeOffset? dueAt,
        string? dedupeRowKey, IReadOnlyList<long> markSent)
    {
        var sale = decision.Sale;
        // UpdateReplace guarded by the ETag argument (the entity's own ETag property is ignored by the SDK).
        yield return new TableTransactionAction(TableTransactionActionType.UpdateReplace, SaleEntities.ToEntity(sale, transitionId, dueAt), etag);
        yield return new TableTransactionAction(TableTransactionActionType.Add, SaleEntities.ToEntity(sale.Reference, decision.History!));
        if (dedupeRowKey is not null)
        {
            // Index 2 (CommitAsync tells a repeat by it).
            yield return new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(SaleEntities.Partition(sale.Reference), SaleEntities.DedupeRowKey(sale.Reference, dedupeRowKey))
            {
                ["HistorySequence"] = decision.History!.Sequence,
                ["RecordedAt"] = decision.History.Time.ToUniversalTime(),
            });
        }

        foreach (var outboxEvent in decision.Outbox)
        {
            yield return new TableTransactionAction(TableTransactionActionType.Add, OutboxRows.ToEntity(outboxEvent));
        }

        foreach (var mark in Marks(sale.Reference, markSent.Where(sequence => decision.Outbox.All(e => e.Sequence != sequence)).ToList()))
        {
            yield return mark;
        }
    }

    /// <summary>"Sent" marks for outbox rows published after an earlier write: merged unconditionally (only ever set true).</summary>
    private static IEnumerable<TableTransactionAction> Marks(string reference, IReadOnlyList<long> sequences) =>
        sequences.Select(sequence => new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(SaleEntities.Partition(reference), OutboxRows.RowKey(reference, sequence))
        {
            [OutboxRows.SentProperty] = true,
        }, ETag.All));

    public async Task<StoredSale?> LoadAsync(string reference, CancellationToken cancellationToken)
    {
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            // Not one of our references (a webhook or request naming something else): no such sale, and no read.
            return null;
        }

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partition, SaleEntities.StateRowKey(reference), cancellationToken: cancellationToken);
        if (!response.HasValue || response.Value is null)
        {
            cache.Remove(reference);
            return null;
        }

        var entity = response.Value;
        return Remember(new StoredSale(SaleEntities.FromEntity(entity), entity.ETag, entity.GetString(SaleEntities.TransitionIdProperty), SaleEntities.DueAt(entity)));
    }

    private StoredSale Remember(StoredSale stored)
    {
        if (stored.ETag == default)
        {
            // The answer carried no ETag: nothing to guard a write with, so the next use reads.
            cache.Remove(stored.Sale.Reference);
        }
        else
        {
            cache.Put(stored);
        }

        return stored;
    }

    private static ETag ETagOf(Response<IReadOnlyList<Response>> response, int index) =>
        response.Value.Count > index && response.Value[index].Headers.ETag is { } etag ? etag : default;
}
