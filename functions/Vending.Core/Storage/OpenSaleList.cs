using Azure;
using Azure.Data.Tables;
using Vending.Core.Events;

namespace Vending.Core.Storage;

public sealed record OpenSaleEntry(string Reference, ETag ETag);

public interface IOpenSaleList
{
    /// <summary>Puts the sale on the work list (idempotent). Its ETag changes, so a concurrent removal fails.</summary>
    Task AddAsync(string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<OpenSaleEntry>> ListAsync(int max, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="max"/> entries after <paramref name="after"/> (a reference; null: from the
    /// start), in reference order: a cursor, so repeated passes reach every open sale however many there are.</summary>
    Task<IReadOnlyList<OpenSaleEntry>> ListAsync(int max, string? after, CancellationToken cancellationToken);

    /// <summary>Removes the entry if unchanged since it was listed (a sale re-opened meanwhile stays listed).</summary>
    Task<bool> RemoveAsync(OpenSaleEntry entry, CancellationToken cancellationToken);
}

/// <summary>The <c>OpenSales</c> table: the reconciler's and outbox sweeper's work list (no table scans).</summary>
public sealed class OpenSaleList(VendingTables tables, TimeProvider time) : IOpenSaleList
{
    public async Task AddAsync(string reference, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        await table.UpsertEntityAsync(
            new TableEntity(OutboxRows.OpenSalesPartition, reference) { ["ListedAt"] = time.GetUtcNow() },
            TableUpdateMode.Replace,
            cancellationToken);
    }

    public Task<IReadOnlyList<OpenSaleEntry>> ListAsync(int max, CancellationToken cancellationToken) => ListAsync(max, null, cancellationToken);

    public async Task<IReadOnlyList<OpenSaleEntry>> ListAsync(int max, string? after, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        var entries = new List<OpenSaleEntry>();
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {OutboxRows.OpenSalesPartition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {OutboxRows.OpenSalesPartition} and RowKey gt {after}");
        await foreach (var row in table.QueryAsync<TableEntity>(
            filter,
            maxPerPage: Math.Min(max, 1000),
            select: ["RowKey"],
            cancellationToken: cancellationToken))
        {
            entries.Add(new OpenSaleEntry(row.RowKey, row.ETag));
            if (entries.Count >= max)
            {
                break;
            }
        }

        return entries;
    }

    public async Task<bool> RemoveAsync(OpenSaleEntry entry, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        try
        {
            await table.DeleteEntityAsync(OutboxRows.OpenSalesPartition, entry.Reference, entry.ETag, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return exception.Status == 404;
        }
    }
}
