using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>OpenSales</c> table as an index of what is due when: PartitionKey <c>due</c>, RowKey
/// <c>{dueTicks:D19}-{reference}</c>. Every open sale has a row at (or before) the earliest time the reconciler must
/// look at it; the state row's <c>DueAt</c> names the current one. A transition moves the row only when it needs the
/// reconciler earlier; the reconciler moves it on (or removes it when the sale is closed) when it visits, and removes
/// what it visited in batches (one partition: up to 100 deletes per request).
/// </summary>
public sealed class DueSaleIndex(VendingTables tables) : IDueSaleIndex
{
    public const string Partition = "due";

    /// <summary>The most actions an entity-group transaction may hold.</summary>
    public const int MaxBatch = 100;

    /// <summary>Batches of one chunk that may fail on a missing or rewritten row before the rest goes one by one.</summary>
    private const int BatchRetries = 3;

    public static string RowKey(string reference, DateTimeOffset dueAt) => DueEntry.KeyFor(reference, dueAt);

    public async Task<ETag> AddAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        var response = await table.UpsertEntityAsync(new TableEntity(Partition, RowKey(reference, dueAt))
        {
            ["Reference"] = reference,
            ["DueAt"] = DueSchedule.Normalize(dueAt),
        }, TableUpdateMode.Replace, cancellationToken);
        return response.Headers.ETag ?? default;
    }

    public async Task RemoveAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        await RemoveOneAsync(table, RowKey(reference, dueAt), ETag.All, cancellationToken);
    }

    public async Task<int> RemoveManyAsync(IReadOnlyCollection<DueEntry> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        var removed = 0;
        // One action per row key (a batch may not name a row twice).
        var distinct = rows.GroupBy(row => row.RowKey, StringComparer.Ordinal).Select(group => group.First()).ToList();
        foreach (var chunk in distinct.Chunk(MaxBatch))
        {
            removed += await RemoveChunkAsync(table, [.. chunk], cancellationToken);
        }

        return removed;
    }

    private static async Task<int> RemoveChunkAsync(TableClient table, List<DueEntry> chunk, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= BatchRetries && chunk.Count > 1; attempt++)
        {
            try
            {
                await table.SubmitTransactionAsync(
                    chunk.Select(row => new TableTransactionAction(TableTransactionActionType.Delete,
                        new TableEntity(Partition, row.RowKey), row.ETag == default ? ETag.All : row.ETag)),
                    cancellationToken);
                return chunk.Count;
            }
            catch (TableTransactionFailedException exception) when (exception.Status is 404 or 412
                && exception.FailedTransactionActionIndex is { } index && index >= 0 && index < chunk.Count)
            {
                // Nothing of the batch was applied: leave out the row that is gone (removed by another visit) or was
                // written again since it was listed (someone's new due row), and submit the rest again.
                chunk.RemoveAt(index);
            }
            catch (TableTransactionFailedException exception) when (exception.Status is 404 or 412)
            {
                // The service did not say which row: one by one.
                break;
            }
        }

        var removed = 0;
        foreach (var row in chunk)
        {
            if (await RemoveOneAsync(table, row.RowKey, row.ETag == default ? ETag.All : row.ETag, cancellationToken))
            {
                removed++;
            }
        }

        return removed;
    }

    private static async Task<bool> RemoveOneAsync(TableClient table, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(Partition, rowKey, etag, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<DueEntry>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        // Every key of a due time <= now sorts below "{nowTicks + 1}".
        var upper = (now.UtcTicks + 1).ToString("D19", CultureInfo.InvariantCulture);
        return await QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey lt {upper}"), max, cancellationToken);
    }

    public async Task<IReadOnlyList<DueEntry>> ListAsync(int max, string? afterRowKey, CancellationToken cancellationToken) =>
        await QueryAsync(afterRowKey is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey gt {afterRowKey}"), max, cancellationToken);

    private async Task<IReadOnlyList<DueEntry>> QueryAsync(string filter, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        var entries = new List<DueEntry>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Clamp(max, 1, 1000), select: ["RowKey", "Reference", "DueAt"], cancellationToken: cancellationToken))
        {
            entries.Add(new DueEntry(row.GetString("Reference") ?? "", row.GetDateTimeOffset("DueAt")?.ToUniversalTime() ?? DateTimeOffset.MinValue, row.RowKey, row.ETag));
            if (entries.Count >= max)
            {
                break;
            }
        }

        return entries;
    }
}
