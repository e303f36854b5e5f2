using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Vending.Core.Operator.Fleet;
using Vending.Core.Sales;

namespace Vending.Core.Http;

/// <summary>Strict readers of the fleet queries: unknown parameters, bad times, too long ranges are 400 with the field.</summary>
public static partial class FleetQueryReader
{
    /// <summary>The all-machines listing answers when no machine is named, or a state is asked for.</summary>
    public static bool WantsFleetListing(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return !query.ContainsKey("machineId") || query.ContainsKey("state");
    }

    /// <summary><c>?from=&amp;to=&amp;state=&amp;machineId=&amp;pageSize=&amp;continuationToken=</c>; default range: the last 30 days.</summary>
    public static FleetSalesQuery ReadSales(IQueryCollection query, DateTimeOffset now)
    {
        RequestReaders.RefuseUnknown(query, "from", "to", "state", "machineId", "pageSize", "continuationToken", "code");
        var (from, to) = Range(query, now, TimeSpan.FromDays(30));
        var machineId = RequestReaders.Single(query, "machineId");
        if (machineId is not null && !MachineId().IsMatch(machineId))
        {
            throw ApiErrors.Validation("machineId", "machineId has an invalid format.");
        }

        SaleState? state = null;
        if (RequestReaders.Single(query, "state") is { } stateText)
        {
            state = Enum.TryParse<SaleState>(stateText, ignoreCase: false, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(stateText, out _)
                ? parsed
                : throw ApiErrors.Validation("state", $"state must be one of {string.Join(", ", Enum.GetNames<SaleState>())}.");
        }

        var pageSize = 50;
        if (RequestReaders.Single(query, "pageSize") is { } size
            && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > FleetQueries.MaxPageSize))
        {
            throw ApiErrors.Validation("pageSize", $"pageSize must be a whole number from 1 to {FleetQueries.MaxPageSize}.");
        }

        var token = RequestReaders.Single(query, "continuationToken");
        if (token is not null && !Storage.SalesByDayIndex.IsValidToken(token))
        {
            throw ApiErrors.Validation("continuationToken", "continuationToken is not one this API returned.");
        }

        return new FleetSalesQuery(from, to, machineId, state, pageSize, token);
    }

    /// <summary><c>?from=&amp;to=</c> of an export; default: today (UTC) so far.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) ReadExport(IQueryCollection query, DateTimeOffset now)
    {
        RequestReaders.RefuseUnknown(query, "from", "to", "code");
        return Range(query, now, now - new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero));
    }

    public static void ReadNothing(IQueryCollection query) => RequestReaders.RefuseUnknown(query, "code");

    private static (DateTimeOffset From, DateTimeOffset To) Range(IQueryCollection query, DateTimeOffset now, TimeSpan defaultLength)
    {
        var to = RequestReaders.OptionalTime(query, "to") ?? now;
        var from = RequestReaders.OptionalTime(query, "from") ?? to - defaultLength;
        if (from >= to)
        {
            throw ApiErrors.Validation("from", "from must be before to.");
        }

        return to - from <= FleetQueries.MaxRange
            ? (from, to)
            : throw ApiErrors.Validation("from", $"A range may span at most {FleetQueries.MaxRange.TotalDays} days.");
    }

    [GeneratedRegex("^[a-z0-9-]{3,32}$")]
    private static partial Regex MachineId();
}
