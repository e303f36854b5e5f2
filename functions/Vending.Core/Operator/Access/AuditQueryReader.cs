using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Vending.Core.Http;

namespace Vending.Core.Operator.Access;

/// <summary>What <c>GET /api/operator/audit</c> asks for: a time range, or one sale's or machine's history.</summary>
public sealed record AuditRequest(AuditQuery? Range, string? SubjectKind, string? Subject);

/// <summary>Strict reader of <c>?from=&amp;to=&amp;pageSize=&amp;continuationToken=</c> or <c>?reference=</c> / <c>?machineId=</c>.</summary>
public static partial class AuditQueryReader
{
    public static AuditRequest Read(IQueryCollection query, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(query);
        string[] allowed = ["from", "to", "pageSize", "continuationToken", "reference", "machineId", "code"];
        foreach (var key in query.Keys.Where(k => Array.IndexOf(allowed, k) < 0))
        {
            var name = key.Length <= 100 ? key : key[..100];
            throw new ApiProblemException(400, ApiErrors.UnknownField, $"Unknown query parameter {name}.", name);
        }

        if (Single(query, "reference") is { } reference)
        {
            return SubjectKey().IsMatch(reference)
                ? new AuditRequest(null, AuditSubjects.Sale, reference)
                : throw ApiErrors.Validation("reference", "reference has an invalid format.");
        }

        if (Single(query, "machineId") is { } machineId)
        {
            return SubjectKey().IsMatch(machineId)
                ? new AuditRequest(null, AuditSubjects.Machine, machineId)
                : throw ApiErrors.Validation("machineId", "machineId has an invalid format.");
        }

        var to = Time(query, "to") ?? now;
        var from = Time(query, "from") ?? to.AddDays(-1);
        if (from >= to)
        {
            throw ApiErrors.Validation("from", "from must be before to.");
        }

        if (to - from > TableOperatorAuditLog.MaxRange)
        {
            throw ApiErrors.Validation("from", $"A range may span at most {TableOperatorAuditLog.MaxRange.TotalDays} days.");
        }

        var pageSize = 50;
        if (Single(query, "pageSize") is { } size
            && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > TableOperatorAuditLog.MaxPageSize))
        {
            throw ApiErrors.Validation("pageSize", $"pageSize must be a whole number from 1 to {TableOperatorAuditLog.MaxPageSize}.");
        }

        var token = Single(query, "continuationToken");
        if (token is not null && !TableOperatorAuditLog.IsValidToken(token))
        {
            throw ApiErrors.Validation("continuationToken", "continuationToken is not one this API returned.");
        }

        return new AuditRequest(new AuditQuery(from, to, pageSize, token), null, null);
    }

    private static string? Single(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        return values.Count == 1 ? values[0] : throw ApiErrors.Validation(name, $"{name} may be given once.");
    }

    private static DateTimeOffset? Time(IQueryCollection query, string name)
    {
        var text = Single(query, name);
        if (text is null)
        {
            return null;
        }

        if (text.Length > 40 || !IsoTime().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            || time.UtcTicks < new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks)
        {
            throw ApiErrors.Validation(name, $"{name} must be an ISO 8601 time with a zone after 2000, e.g. 2025-11-26T12:00:00Z.");
        }

        return time;
    }

    [GeneratedRegex("^[a-zA-Z0-9-]{3,64}$")]
    private static partial Regex SubjectKey();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex IsoTime();
}
