using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>OpenSales</c> table as an index of what is due when: PartitionKey <c>due</c>, RowKey
/// <c>{dueTicks:D19}-{reference}</c>. Every open sale has a row at (or before) the earliest time the reconciler must
/// look at it; the state row's <c>DueAt</c> names the current one. A transition moves the row only when it needs the
/// reconciler earlier; the reconciler moves it on (or removes it when the sale is closed) when it visits.
/// </summary>
public sealed class DueSaleIndex(VendingTables tables) : IDueSaleIndex
{
    public const string Partition = "due";

    public static string RowKey(string reference, DateTimeOffset dueAt) =>
        $"{Normalize(dueAt).UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}-{reference}";

    /// <summary>Whole milliseconds, UTC: the row key made from a due time read back from a property is the same key.</summary>
    public static DateTimeOffset Normalize(DateTimeOffset at) => DueSchedule.Normalize(at);

    public async Task AddAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, RowKey(reference, dueAt))
        {
            ["Reference"] = reference,
            ["DueAt"] = Normalize(dueAt),
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task RemoveAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OpenSales, cancellationToken);
        try
        {
            await table.DeleteEntityAsync(Partition, RowKey(reference, dueAt), ETag.All, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
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
            entries.Add(new DueEntry(row.GetString("Reference") ?? "", row.GetDateTimeOffset("DueAt")?.ToUniversalTime() ?? DateTimeOffset.MinValue, row.RowKey));
            if (entries.Count >= max)
            {
                break;
            }
        }

        return entries;
    }
}
