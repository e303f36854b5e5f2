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
            await foreach (var entity in tables.GetTableClient(TableNames.Sales).QueryAsync<TableEntity>($"RowKey eq '{SaleEntities.StateRowKey}'", cancellationToken: cancellationToken))
            {
                result.Add(ToStoredSale(entity));
            }
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
        }

        return result;
    }

    internal static async Task<StoredSale?> ReadSaleAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken)
    {
        var response = await tables.GetTableClient(TableNames.Sales).GetEntityIfExistsAsync<TableEntity>(reference, SaleEntities.StateRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? ToStoredSale(response.Value!) : null;
    }

    /// <summary>Still listed in the due index: its state row names a due time (the reconciler's close removes it).</summary>
    internal static async Task<bool> IsOpenAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken)
    {
        var response = await tables.GetTableClient(TableNames.Sales).GetEntityIfExistsAsync<TableEntity>(reference, SaleEntities.StateRowKey, cancellationToken: cancellationToken);
        return response.HasValue && SaleEntities.DueAt(response.Value!) is not null;
    }

    /// <summary>A sale's history rows, oldest first, through the core's own mapping.</summary>
    internal static async IAsyncEnumerable<SaleHistoryEntry> ReadHistoryAsync(
        TableServiceClient tables, string reference, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {reference} and RowKey ge {SaleEntities.HistoryPrefix} and RowKey lt {TableKeys.RangeEnd(SaleEntities.HistoryPrefix)}");
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
