using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Vending.Core.Machines;
using Vending.Core.Operator;
using Vending.Core.Sales;

namespace Vending.Core.Http;

/// <summary>An operator refund: <see cref="RequestId"/> makes a retry a repeat, not a second refund.</summary>
public sealed record RefundRequest(long Amount, string RequestId);

/// <summary>The operator routes' bodies, query strings and route values.</summary>
public static partial class RequestReaders
{
    public static RefundRequest ReadRefund(JsonElement json)
    {
        var body = JsonFields.Open(json, "", "amount", "requestId");
        return new RefundRequest(
            body.RequiredLong("amount", 1, InputLimits.MaxRefundAmount),
            body.RequiredString("requestId", InputLimits.RequestIdMaxLength, RequestId()));
    }

    /// <summary>An operator retry or release: <c>{"requestId": "..."}</c>; a repeat with the same id acts once.</summary>
    public static string ReadOperatorAction(JsonElement json) =>
        JsonFields.Open(json, "", "requestId").RequiredString("requestId", 40, RequestId());

    /// <summary>A route's machine id: anything that cannot be one is a machine we do not have (404).</summary>
    public static string ReadMachineId(string? machineId) =>
        machineId is not null && MachineId().IsMatch(machineId)
            ? machineId
            : throw new SaleException(RefusalKind.NotFound, "machine_not_found", "No such machine.");

    /// <summary>A body-less operator action: empty or <c>{}</c>.</summary>
    public static bool ReadEmpty(JsonElement json) => ReadCancel(json);

    /// <summary><c>?machineId=&amp;from=&amp;to=&amp;pageSize=&amp;continuationToken=</c>; unknown parameters are refused.</summary>
    public static SalesQuery ReadSalesQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        RefuseUnknown(query, "machineId", "from", "to", "pageSize", "continuationToken", "code");
        var machineId = Single(query, "machineId") ?? throw ApiErrors.Validation("machineId", "machineId is required: sales are listed per machine.");
        if (!MachineId().IsMatch(machineId))
        {
            throw ApiErrors.Validation("machineId", "machineId has an invalid format.");
        }

        var from = OptionalTime(query, "from");
        var to = OptionalTime(query, "to");
        if (from is not null && to is not null && from > to)
        {
            throw ApiErrors.Validation("from", "from must not be after to.");
        }

        var pageSizeText = Single(query, "pageSize");
        var pageSize = 50;
        if (pageSizeText is not null
            && (!int.TryParse(pageSizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > OperatorSaleQueries.MaxPageSize))
        {
            throw ApiErrors.Validation("pageSize", $"pageSize must be a whole number from 1 to {OperatorSaleQueries.MaxPageSize}.");
        }

        var token = Single(query, "continuationToken");
        if (token is not null && !Storage.MachineSaleIndex.IsValidToken(token))
        {
            throw ApiErrors.Validation("continuationToken", "continuationToken is not one this API returned.");
        }

        return new SalesQuery(machineId, from, to, pageSize, token);
    }

    /// <summary><c>?lookback=N</c>: how many of each machine's latest sales to check for failures (1..200, default 50).</summary>
    public static int ReadReconciliationQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        RefuseUnknown(query, "lookback", "code");
        var text = Single(query, "lookback");
        if (text is null)
        {
            return 50;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var lookback) && lookback is >= 1 and <= 200
            ? lookback
            : throw ApiErrors.Validation("lookback", "lookback must be a whole number from 1 to 200.");
    }

    internal static DateTimeOffset? OptionalTime(IQueryCollection query, string name)
    {
        var text = Single(query, name);
        if (text is null)
        {
            return null;
        }

        // ISO 8601 with an offset or Z; a time without a zone would be read in the server's zone.
        if (text.Length > 40 || !IsoTime().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            || time.UtcTicks < new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks)
        {
            throw ApiErrors.Validation(name, $"{name} must be an ISO 8601 time with a zone after 2000, e.g. 2025-11-26T12:00:00Z.");
        }

        return time;
    }

    internal static void RefuseUnknown(IQueryCollection query, params string[] allowed)
    {
        foreach (var key in query.Keys)
        {
            if (Array.IndexOf(allowed, key) < 0)
            {
                var name = key.Length <= 100 ? key : key[..100];
                throw new ApiProblemException(400, ApiErrors.UnknownField, $"Unknown query parameter {name}.", name);
            }
        }
    }

    [GeneratedRegex(InputLimits.RequestIdPattern)]
    private static partial Regex RequestId();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex IsoTime();
}
