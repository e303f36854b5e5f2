using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Vending.Core.Operator.Access;
using Vending.Core.Storage;

namespace Vending.Core.Http;

/// <summary>What <c>GET /api/operator/audit</c> asks for: a time range, or one sale's or machine's history.</summary>
public sealed record AuditRequest(AuditQuery? Range, string? SubjectKind, string? Subject);

/// <summary>Strict reader of <c>?from=&amp;to=&amp;pageSize=&amp;continuationToken=</c> or <c>?reference=</c> / <c>?machineId=</c>.</summary>
public static partial class AuditQueryReader
{
    public static AuditRequest Read(IQueryCollection query, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(query);
        RequestReaders.RefuseUnknown(query, "from", "to", "pageSize", "continuationToken", "reference", "machineId", "code");

        if (RequestReaders.Single(query, "reference") is { } reference)
        {
            return SubjectKey().IsMatch(reference)
                ? new AuditRequest(null, AuditSubjects.Sale, reference)
                : throw ApiErrors.Validation("reference", "reference has an invalid format.");
        }

        if (RequestReaders.Single(query, "machineId") is { } machineId)
        {
            return SubjectKey().IsMatch(machineId)
                ? new AuditRequest(null, AuditSubjects.Machine, machineId)
                : throw ApiErrors.Validation("machineId", "machineId has an invalid format.");
        }

        var to = RequestReaders.OptionalTime(query, "to") ?? now;
        var from = RequestReaders.OptionalTime(query, "from") ?? to.AddDays(-1);
        if (from >= to)
        {
            throw ApiErrors.Validation("from", "from must be before to.");
        }

        if (to - from > AuditQueryLimits.MaxRange)
        {
            throw ApiErrors.Validation("from", $"A range may span at most {AuditQueryLimits.MaxRange.TotalDays} days.");
        }

        var pageSize = 50;
        if (RequestReaders.Single(query, "pageSize") is { } size
            && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > AuditQueryLimits.MaxPageSize))
        {
            throw ApiErrors.Validation("pageSize", $"pageSize must be a whole number from 1 to {AuditQueryLimits.MaxPageSize}.");
        }

        var token = RequestReaders.Single(query, "continuationToken");
        if (token is not null && !TableOperatorAuditLog.IsValidToken(token))
        {
            throw ApiErrors.Validation("continuationToken", "continuationToken is not one this API returned.");
        }

        return new AuditRequest(new AuditQuery(from, to, pageSize, token), null, null);
    }

    [GeneratedRegex("^[a-zA-Z0-9-]{3,64}$")]
    private static partial Regex SubjectKey();
}
