using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Vending.Core.Operator.Fleet;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>SalesByDay</c> listing for the fleet's reads: one partition per UTC day (<see cref="SalesByDayKeys"/>),
/// RowKeys newest first, so a time range is a handful of partition range queries and never a scan. A continuation is
/// the day and the last RowKey read (<see cref="DayPageToken"/>).
/// </summary>
public sealed partial class SalesByDayIndex(VendingTables tables) : ISalesByDayIndex
{
    public async IAsyncEnumerable<DayIndexEntry> ReadAsync(
        DateTimeOffset from, DateTimeOffset to, string? machineId, string? continuation,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (startDay, after) = continuation is { } token && DecodeToken(token) is { } decoded
            ? decoded
            : (to.AddTicks(-1).UtcDateTime.Date, (string?)null);
        var table = await tables.GetAsync(TableNames.SalesByDay, cancellationToken);
        var upper = SalesByDayKeys.Inverted(from.AddTicks(-1));   // RowKeys below are at or after From
        var lower = SalesByDayKeys.Inverted(to.AddTicks(-1));     // RowKeys at or above are before To
        for (var day = startDay; day >= from.UtcDateTime.Date; day = day.AddDays(-1))
        {
            var partition = SalesByDayKeys.Partition(new DateTimeOffset(day, TimeSpan.Zero));
            var floor = after is not null && day == startDay ? after : lower;
            var comparison = after is not null && day == startDay ? "gt" : "ge";
            var filter = $"PartitionKey eq '{partition}' and RowKey {comparison} '{floor}' and RowKey lt '{upper}'";
            if (machineId is not null)
            {
                filter += " and " + TableClient.CreateQueryFilter($"MachineId eq {machineId}");
            }

            await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 500, cancellationToken: cancellationToken))
            {
                yield return new DayIndexEntry(row.GetString("Reference") ?? "", day, row.RowKey);
            }
        }
    }

    public string ContinuationAfter(DayIndexEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return DayPageToken.Encode(entry.Day, entry.Position);
    }

    /// <summary>Whether a continuation token has the shape this index hands out (the HTTP reader refuses others).</summary>
    public static bool IsValidToken(string token) => DecodeToken(token) is not null;

    private static (DateTime Day, string After)? DecodeToken(string token) => DayPageToken.Decode(token, RowKeyShape()) is { } decoded ? (decoded.Day, decoded.RowKey) : null;

    [GeneratedRegex("^[0-9]{19}-[a-zA-Z0-9-]{8,64}$")]
    private static partial Regex RowKeyShape();
}
