using Azure.Data.Tables;
using Vending.Core.Events;
using Vending.Core.Storage;

namespace Vending.Core.Tests.Events;

internal static class OutboxTestData
{
    /// <summary>A sale reference of a machine of its own (the outbox rows live in the machine's partition).</summary>
    public static string NewReference() => SaleReferences.New("vm-" + Guid.NewGuid().ToString("N")[..8]);

    public static OutboxEvent Event(string reference, long sequence, string transition = "authorized", string state = "Authorized") => new(
        EventId: OutboxRows.EventId(reference, sequence),
        Type: OutboxEventTypes.For(transition),
        Reference: reference,
        Sequence: sequence,
        Time: new DateTimeOffset(2026, 11, 27, 10, 15, 30, TimeSpan.Zero).AddSeconds(sequence),
        MachineId: "machine-7",
        MerchantId: "merchant-1",
        State: state,
        Currency: "NOK",
        Amount: 2500,
        AuthorizedAmount: sequence > 1 ? 2500 : 0,
        CapturedAmount: 0,
        CancelledAmount: 0,
        RefundedAmount: 0);

    /// <summary>The Sales and OpenSales tables as the sale service leaves them: pending outbox rows in the sale's
    /// partition beside its state and history rows, and the sale listed as due.</summary>
    public static async Task<TableServiceClient> TablesAsync(string connectionString)
    {
        var tables = new TableServiceClient(connectionString);
        await tables.CreateTableIfNotExistsAsync(OutboxRows.SalesTable);
        await tables.CreateTableIfNotExistsAsync(OutboxRows.OpenSalesTable);
        return tables;
    }

    public static async Task InsertPendingAsync(TableServiceClient tables, string reference, params long[] sequences)
    {
        var sales = tables.GetTableClient(OutboxRows.SalesTable);
        foreach (var sequence in sequences)
        {
            await sales.AddEntityAsync(OutboxRows.ToEntity(Event(reference, sequence)));
        }

        // Listed in the due index, due in the past (in reference order, as the tests' sales are named).
        var dueAt = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(reference.Sum(c => c));
        await tables.GetTableClient(OutboxRows.OpenSalesTable)
            .UpsertEntityAsync(new TableEntity(OutboxRows.OpenSalesPartition, Vending.Core.Storage.DueSaleIndex.RowKey(reference, dueAt)) { ["Reference"] = reference });
    }

    public static async Task<Dictionary<long, bool>> SentFlagsAsync(TableServiceClient tables, string reference)
    {
        var flags = new Dictionary<long, bool>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {OutboxRows.Partition(reference)} and RowKey ge {OutboxRows.RangeStart(reference)} and RowKey lt {OutboxRows.RangeEnd(reference)}");
        await foreach (var row in tables.GetTableClient(OutboxRows.SalesTable).QueryAsync<TableEntity>(filter))
        {
            flags[row.GetInt64("Sequence")!.Value] = row.GetBoolean("Sent")!.Value;
        }

        return flags;
    }
}
