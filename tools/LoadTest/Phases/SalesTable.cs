using Azure;
using Azure.Data.Tables;
using Vending.Core.Sales;
using Vending.Core.Storage;

namespace LoadTest.Phases;

/// <summary>The harness' reads of our tables (straight to Azurite, not counted), through the core's own entity mapping.</summary>
internal static class SalesTable
{
    internal static async Task<List<StoredSale>> ReadSalesAsync(TableServiceClient tables, CancellationToken cancellationToken)
    {
        var result = new List<StoredSale>();
        try
        {
            // Every sale's rows (s-...) of every machine partition; the state rows among them are told by their key.
            var filter = TableClient.CreateQueryFilter(
                $"RowKey ge {SaleEntities.SalePrefix} and RowKey lt {TableKeys.RangeEnd(SaleEntities.SalePrefix)}");
            await foreach (var entity in tables.GetTableClient(TableNames.Sales).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                if (SaleEntities.IsStateRow(entity))
                {
                    result.Add(ToStoredSale(entity));
                }
            }
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
        }

        return result;
    }

    internal static async Task<StoredSale?> ReadSaleAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken) =>
        await ReadStateRowAsync(tables, reference, cancellationToken) is { } row ? ToStoredSale(row) : null;

    /// <summary>Still listed in the due index: its state row names a due time (the reconciler's close removes it).</summary>
    internal static async Task<bool> IsOpenAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken) =>
        await ReadStateRowAsync(tables, reference, cancellationToken) is { } row && SaleEntities.DueAt(row) is not null;

    private static async Task<TableEntity?> ReadStateRowAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken)
    {
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            return null;
        }

        var response = await tables.GetTableClient(TableNames.Sales).GetEntityIfExistsAsync<TableEntity>(partition, SaleEntities.StateRowKey(reference), cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>A sale's history rows, oldest first, through the core's own mapping.</summary>
    internal static async IAsyncEnumerable<SaleHistoryEntry> ReadHistoryAsync(
        TableServiceClient tables, string reference, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!SaleEntities.TryPartition(reference, out var partition))
        {
            yield break;
        }

        var start = SaleEntities.HistoryRangeStart(reference);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {start} and RowKey lt {TableKeys.RangeEnd(start)}");
        await foreach (var row in tables.GetTableClient(TableNames.Sales).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return SaleEntities.HistoryFromEntity(row);
        }
    }

    /// <summary>Our state row, read through the core's own mapping (<c>SaleEntities.FromEntity</c>), not column names.</summary>
    internal static StoredSale ToStoredSale(TableEntity entity)
    {
        var sale = SaleEntities.FromEntity(entity);
        return new StoredSale(
            sale.Reference,
            sale.MachineId,
            sale.MachineSaleId,
            sale.State.ToString(),
            sale.CaptureMode.ToString(),
            sale.Amount,
            sale.AuthorizedAmount,
            sale.CapturedAmount,
            sale.CancelledAmount,
            sale.RefundedAmount,
            sale.DeliveredAmount,
            sale.Operations.Count(operation => operation.Status == OperationStatus.Pending),
            sale.Vend is not null);
    }
}
