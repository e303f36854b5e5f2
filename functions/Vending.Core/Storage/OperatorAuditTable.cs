using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Vending.Core.Operator.Access;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>OperatorAudit</c> table. Every entry is written twice: under <c>d-{yyyyMMdd}</c> (the UTC day: a time-range
/// query reads one partition per day, never a scan; operator actions come at human pace, so a day is never a hot
/// partition) and under <c>{kind}-{id}</c> (the sale's or machine's own history). RowKeys are inverted ticks, so
/// ascending RowKey is newest first.
/// </summary>
public sealed partial class TableOperatorAuditLog(VendingTables tables) : IOperatorAuditLog
{
    public async Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var table = await tables.GetAsync(TableNames.OperatorAudit, cancellationToken);
        var rowKey = $"{DateTimeOffset.MaxValue.UtcTicks - entry.At.UtcTicks:D19}-{Guid.NewGuid():N}"[..32];
        await table.AddEntityAsync(ToEntity(DayPartition(entry.At), rowKey, entry), cancellationToken);
        if (entry.Subject is not null)
        {
            await table.AddEntityAsync(ToEntity(SubjectPartition(entry.SubjectKind, entry.Subject), rowKey, entry), cancellationToken);
        }
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var table = await tables.GetAsync(TableNames.OperatorAudit, cancellationToken);
        var upper = $"{DateTimeOffset.MaxValue.UtcTicks - query.From.UtcTicks + 1:D19}";   // RowKeys before this are at or after From
        var lower = $"{DateTimeOffset.MaxValue.UtcTicks - query.To.UtcTicks + 1:D19}";     // ... and these are before To
        var (startDay, after) = query.ContinuationToken is { } token && DecodeToken(token) is { } decoded
            ? decoded
            : (query.To.AddTicks(-1).UtcDateTime.Date, (string?)null);

        var entries = new List<AuditEntry>();
        string? lastRowKey = null;
        var lastDay = startDay;
        for (var day = startDay; day >= query.From.UtcDateTime.Date; day = day.AddDays(-1))
        {
            var partition = DayPartition(new DateTimeOffset(day, TimeSpan.Zero));
            var floor = after is not null && day == startDay ? after : null;
            var filter = floor is null
                ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {lower} and RowKey lt {upper}")
                : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {floor} and RowKey ge {lower} and RowKey lt {upper}");
            await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: query.PageSize + 1, cancellationToken: cancellationToken))
            {
                if (entries.Count == query.PageSize)
                {
                    return new AuditPage(entries, DayPageToken.Encode(lastDay, lastRowKey!));
                }

                entries.Add(FromEntity(row));
                lastRowKey = row.RowKey;
                lastDay = day;
            }
        }

        return new AuditPage(entries, null);
    }

    public async Task<IReadOnlyList<AuditEntry>> ForSubjectAsync(string subjectKind, string subject, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.OperatorAudit, cancellationToken);
        var partition = SubjectPartition(subjectKind, subject);
        var entries = new List<AuditEntry>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), maxPerPage: max, cancellationToken: cancellationToken))
        {
            entries.Add(FromEntity(row));
            if (entries.Count >= max)
            {
                break;
            }
        }

        return entries;
    }

    /// <summary>Whether a continuation token has the shape this log hands out (the HTTP reader refuses others).</summary>
    public static bool IsValidToken(string token) => DecodeToken(token) is not null;

    private static string DayPartition(DateTimeOffset at) => "d-" + at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static string SubjectPartition(string kind, string subject) => $"{kind}-{TableKeys.Safe(subject)}";

    private static TableEntity ToEntity(string partition, string rowKey, AuditEntry entry) => new(partition, rowKey)
    {
        ["At"] = entry.At,
        ["Action"] = entry.Action,
        ["SubjectKind"] = entry.SubjectKind,
        ["Subject"] = entry.Subject,
        ["ActorKind"] = entry.ActorKind,
        ["ActorName"] = entry.ActorName,
        ["ActorObjectId"] = entry.ActorObjectId,
        ["RequestId"] = entry.RequestId,
        ["Status"] = entry.Status,
        ["Outcome"] = entry.Outcome,
    };

    private static AuditEntry FromEntity(TableEntity row) => new(
        row.GetDateTimeOffset("At") ?? default,
        row.GetString("Action") ?? "",
        row.GetString("SubjectKind") ?? "",
        row.GetString("Subject"),
        row.GetString("ActorKind") ?? "",
        row.GetString("ActorName") ?? "",
        row.GetString("ActorObjectId"),
        row.GetString("RequestId") ?? "",
        row.GetInt32("Status") ?? 0,
        row.GetString("Outcome") ?? "");

    private static (DateTime Day, string? After)? DecodeToken(string token) => DayPageToken.Decode(token, RowKeyShape()) is { } decoded ? (decoded.Day, decoded.RowKey) : null;

    [GeneratedRegex("^[0-9]{19}-[0-9a-f]{12}$")]
    private static partial Regex RowKeyShape();
}
