using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Vending.Core.Operator;

namespace Vending.Core.Storage;

/// <summary>
/// Each machine's listing rows in its partition of <c>Sales</c>: RowKey <c>t-{MaxTicks - createdTicks:D19}-{reference}</c>,
/// so ascending RowKey is newest first and a time range is one range query in one partition. A continuation token is
/// the last RowKey of the page, base64url.
/// </summary>
public sealed partial class MachineSaleIndex(VendingTables tables) : IMachineSaleIndex
{
    private const string ListingPrefix = SaleEntities.ListingPrefix;

    public async Task<MachineSaleReferences> PageAsync(string machineId, DateTimeOffset? from, DateTimeOffset? to, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var lower = to is { } end ? ListingKey(end) : ListingPrefix;
        var upper = from is { } start ? ListingKey(start.AddTicks(-1)) : TableKeys.RangeEnd(ListingPrefix);
        var after = continuationToken is null ? null : DecodeToken(continuationToken);
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {machineId} and RowKey ge {lower} and RowKey lt {upper}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {machineId} and RowKey gt {after} and RowKey ge {lower} and RowKey lt {upper}");

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var rows = new List<(string RowKey, string Reference)>();
        var more = false;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize + 1, select: ["RowKey", "Reference"], cancellationToken: cancellationToken))
        {
            if (rows.Count == pageSize)
            {
                more = true;
                break;
            }

            rows.Add((row.RowKey, row.GetString("Reference") ?? ""));
        }

        return new MachineSaleReferences(rows.Select(row => row.Reference).ToList(), more ? PageToken.Encode(rows[^1].RowKey) : null);
    }

    public async Task<IReadOnlyList<string>> LatestAsync(string machineId, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {machineId} and RowKey ge {ListingPrefix} and RowKey lt {TableKeys.RangeEnd(ListingPrefix)}");
        var references = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: max, select: ["Reference"], cancellationToken: cancellationToken))
        {
            references.Add(row.GetString("Reference") ?? "");
            if (references.Count >= max)
            {
                break;
            }
        }

        return references;
    }

    /// <summary>Whether a continuation token is the base64url of a listing RowKey (the HTTP reader refuses others,
    /// never queries with them).</summary>
    public static bool IsValidToken(string token) => DecodeToken(token) is not null;

    private static string ListingKey(DateTimeOffset time) => $"{ListingPrefix}{DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks:D19}";

    private static string? DecodeToken(string token) =>
        PageToken.Decode(token) is { } rowKey && ListingRowKey().IsMatch(rowKey) ? rowKey : null;

    [GeneratedRegex("^t-[0-9]{19}-[a-zA-Z0-9-]{8,64}$")]
    private static partial Regex ListingRowKey();
}
