using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Vending.Core.Events;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

public enum TransitionOutcome
{
    /// <summary>The decision was written (state, history, outbox, dedupe row: one transaction).</summary>
    Recorded,

    /// <summary>The event told nothing new; nothing written.</summary>
    Ignored,

    /// <summary>The same Vipps event (or request) was already recorded: its dedupe row exists.</summary>
    Duplicate,

    /// <summary>Refused by the state machine; nothing written.</summary>
    Refused,

    NotFound,
}

public sealed record TransitionResult(TransitionOutcome Outcome, Sale? Sale, SaleDecision? Decision);

public interface ISaleStore
{
    Task<Sale?> GetAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Writes a new sale (state row and first history row in one transaction). If the sale already
    /// exists (a retried create), returns the stored one.</summary>
    Task<Sale> InsertAsync(Sale sale, CancellationToken cancellationToken);

    /// <summary>Decides <paramref name="saleEvent"/> on the stored sale and writes the decision atomically, guarded by
    /// the state row's ETag; a stale ETag reloads and decides again (bounded). <paramref name="dedupeRowKey"/>, when
    /// given, is inserted in the same transaction so a repeat of the same event conflicts and is reported Duplicate.</summary>
    Task<TransitionResult> ApplyAsync(string reference, SaleEvent saleEvent, string? dedupeRowKey, CancellationToken cancellationToken);

    Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken);

    Task<bool> HasUnsentOutboxAsync(string reference, CancellationToken cancellationToken);
}

/// <summary>The <c>Sales</c> table: one partition per sale, one entity-group transaction per transition.</summary>
public sealed class SaleStore(VendingTables tables, TimeProvider time, ILogger<SaleStore> logger) : ISaleStore
{
    /// <summary>Enough for a burst of webhooks, commands and polls racing on one sale; each round re-decides on fresh state.</summary>
    internal const int MaxAttempts = 10;

    public async Task<Sale?> GetAsync(string reference, CancellationToken cancellationToken) =>
        (await LoadAsync(reference, cancellationToken))?.Sale;

    public async Task<Sale> InsertAsync(Sale sale, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var transitionId = Guid.NewGuid().ToString("N");
        TableTransactionAction[] actions =
        [
            new(TableTransactionActionType.Add, SaleEntities.ToEntity(sale, transitionId)),
            new(TableTransactionActionType.Add, SaleEntities.ToEntity(sale.Reference, SaleTransitions.CreatedHistory(sale))),
        ];
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
            return sale;
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 409)
        {
            // Inserted by an earlier try of this create (possibly this very request, retried by the SDK).
            return (await LoadAsync(sale.Reference, cancellationToken))?.Sale
                ?? throw new InvalidOperationException($"Sale {sale.Reference} conflicted on insert but cannot be read.", exception);
        }
    }

    public async Task<TransitionResult> ApplyAsync(string reference, SaleEvent saleEvent, string? dedupeRowKey, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var stored = await LoadAsync(reference, cancellationToken);
            if (stored is null)
            {
                return new TransitionResult(TransitionOutcome.NotFound, null, null);
            }

            // A repeat is a repeat whatever the state machine would now say about it (ignore, or refuse a refund
            // that already moved the sale on). The insert in the transaction below still settles races.
            if (dedupeRowKey is not null && attempt == 1 && await ExistsAsync(table, reference, dedupeRowKey, cancellationToken))
            {
                return new TransitionResult(TransitionOutcome.Duplicate, stored.Sale, null);
            }

            var decision = SaleTransitions.Decide(stored.Sale, saleEvent, time.GetUtcNow());
            switch (decision.Kind)
            {
                case DecisionKind.Ignore:
                    return new TransitionResult(TransitionOutcome.Ignored, stored.Sale, decision);
                case DecisionKind.Refuse:
                    return new TransitionResult(TransitionOutcome.Refused, stored.Sale, decision);
            }

            var transitionId = Guid.NewGuid().ToString("N");
            try
            {
                await table.SubmitTransactionAsync(Actions(decision, stored.ETag, transitionId, dedupeRowKey), cancellationToken);
                return new TransitionResult(TransitionOutcome.Recorded, decision.Sale, decision);
            }
            catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412)
            {
                var now = await LoadAsync(reference, cancellationToken);
                if (now?.TransitionId == transitionId)
                {
                    // Our write landed; only its (SDK-retried) answer was lost.
                    return new TransitionResult(TransitionOutcome.Recorded, now.Sale, decision);
                }

                if (dedupeRowKey is not null && await ExistsAsync(table, reference, dedupeRowKey, cancellationToken))
                {
                    return new TransitionResult(TransitionOutcome.Duplicate, now?.Sale, null);
                }

                if (attempt >= MaxAttempts)
                {
                    logger.LogError(exception, "Sale {Reference}: {Event} lost the race {Attempts} times; giving up", reference, saleEvent.GetType().Name, attempt);
                    throw;
                }

                logger.LogDebug("Sale {Reference} changed under {Event} (status {Status}); deciding again", reference, saleEvent.GetType().Name, exception.Status);
            }
        }
    }

    public async Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {reference} and RowKey ge {SaleEntities.HistoryPrefix} and RowKey lt {TableKeys.RangeEnd(SaleEntities.HistoryPrefix)}");
        var history = new List<SaleHistoryEntry>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            history.Add(SaleEntities.HistoryFromEntity(row));
        }

        return history.OrderBy(entry => entry.Sequence).ToList();
    }

    public async Task<bool> HasUnsentOutboxAsync(string reference, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {reference} and RowKey ge {OutboxRows.RowKeyPrefix} and RowKey lt {TableKeys.RangeEnd(OutboxRows.RowKeyPrefix)} and Sent eq {false}");
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            return true;
        }

        return false;
    }

    private static IEnumerable<TableTransactionAction> Actions(SaleDecision decision, ETag etag, string transitionId, string? dedupeRowKey)
    {
        var sale = decision.Sale;
        // UpdateReplace guarded by the ETag argument (the entity's own ETag property is ignored by the SDK).
        yield return new TableTransactionAction(TableTransactionActionType.UpdateReplace, SaleEntities.ToEntity(sale, transitionId), etag);
        yield return new TableTransactionAction(TableTransactionActionType.Add, SaleEntities.ToEntity(sale.Reference, decision.History!));
        if (dedupeRowKey is not null)
        {
            yield return new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(sale.Reference, dedupeRowKey)
            {
                ["HistorySequence"] = decision.History!.Sequence,
                ["RecordedAt"] = decision.History.Time.ToUniversalTime(),
            });
        }

        foreach (var outboxEvent in decision.Outbox)
        {
            yield return new TableTransactionAction(TableTransactionActionType.Add, OutboxRows.ToEntity(outboxEvent));
        }
    }

    private async Task<StoredSale?> LoadAsync(string reference, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(reference, SaleEntities.StateRowKey, cancellationToken: cancellationToken);
        if (!response.HasValue || response.Value is null)
        {
            return null;
        }

        var entity = response.Value;
        return new StoredSale(SaleEntities.FromEntity(entity), entity.ETag, entity.GetString(SaleEntities.TransitionIdProperty));
    }

    private static async Task<bool> ExistsAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, select: ["RowKey"], cancellationToken);
        return response.HasValue;
    }

    private sealed record StoredSale(Sale Sale, ETag ETag, string? TransitionId);
}
