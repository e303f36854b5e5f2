using Azure;
using Azure.Data.Tables;
using Vending.Core.Events;

namespace Vending.Core.Storage;

/// <summary>
/// The outbox rows (<see cref="OutboxRows"/>) and the due index (<c>OpenSales</c>, partition <c>due</c>) as the
/// dispatcher reads them. Straight table clients, not <see cref="VendingTables"/>: the sale store created the tables
/// before any row was written, so no create call is spent here.
/// </summary>
public sealed class PendingOutboxTable(TableServiceClient tables) : IPendingOutbox
{
    private readonly TableClient _sales = tables.GetTableClient(OutboxRows.SalesTable);
    private readonly TableClient _openSales = tables.GetTableClient(OutboxRows.OpenSalesTable);

    public async Task<IReadOnlyList<PendingOutboxEvent>> PendingAsync(string partition, string reference, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {OutboxRows.RangeStart(reference)} and RowKey lt {OutboxRows.RangeEnd(reference)} and Sent eq {false}");
        var pending = new List<PendingOutboxEvent>();
        await foreach (var row in _sales.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            pending.Add(new PendingOutboxEvent(OutboxRows.ToEvent(row), row.PartitionKey, row.RowKey, row.ETag.ToString()));
        }

        return pending;
    }

    public async Task<bool> MarkSentAsync(PendingOutboxEvent pending, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var update = new TableEntity(pending.Partition, pending.RowKey)
        {
            [OutboxRows.SentProperty] = true,
            [OutboxRows.SentAtProperty] = sentAt,
        };
        try
        {
            // The ETag argument, not the entity's own ETag property, is what guards the update.
            await _sales.UpdateEntityAsync(update, new ETag(pending.Version), TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 412 or 404)
        {
            return false;
        }
    }

    public async IAsyncEnumerable<OverdueSale> OverdueAsync(
        string after, DateTimeOffset dueBefore, int pageSize,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Due RowKeys are {dueTicks:D19}-{reference} (DueSaleIndex): every row due at or before dueBefore sorts below this.
        var upper = (dueBefore.UtcTicks + 1).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {OutboxRows.OpenSalesPartition} and RowKey gt {after} and RowKey lt {upper}");
        await foreach (var row in _openSales.QueryAsync<TableEntity>(
            filter, maxPerPage: pageSize, select: ["RowKey", "Reference"], cancellationToken: cancellationToken))
        {
            yield return new OverdueSale(row.GetString("Reference") ?? row.RowKey[(row.RowKey.IndexOf('-') + 1)..], row.RowKey);
        }
    }
}
