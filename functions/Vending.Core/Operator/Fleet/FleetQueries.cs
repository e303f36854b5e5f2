using System.Globalization;
using System.Text;
using Vending.Core.Sales;

namespace Vending.Core.Operator.Fleet;

/// <summary>Sales of all machines (or one) created in [<see cref="From"/>, <see cref="To"/>), newest first, optionally in one state.</summary>
public sealed record FleetSalesQuery(DateTimeOffset From, DateTimeOffset To, string? MachineId, SaleState? State, int PageSize, string? ContinuationToken);

/// <summary>Per machine or merchant, per currency: how many sales and how much was captured and refunded (minor units).</summary>
public sealed record SalesFigures(string Key, string MerchantId, string Currency, int Count, long Captured, long Refunded);

public sealed record DayFigures(string Day, string Currency, int Count, long Captured, long Refunded);

public sealed record PeriodSummary(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<SalesFigures> Machines, IReadOnlyList<SalesFigures> Merchants, IReadOnlyList<DayFigures> Days);

/// <summary><see cref="Truncated"/>: the period had more than <see cref="FleetQueries.MaxSummarySales"/> sales; figures cover the newest.</summary>
public sealed record FleetSummary(DateTimeOffset GeneratedAt, PeriodSummary Today, PeriodSummary Last30Days, bool Truncated);

/// <summary>One row of the all-machines day listing: a sale's reference, at its place in the listing (<see cref="Day"/>
/// and the storage's <see cref="Position"/> within it, which only the index reads back).</summary>
public sealed record DayIndexEntry(string Reference, DateTime Day, string Position);

/// <summary>The sales of all machines by the UTC day they were created (the <c>SalesByDay</c> table, in storage).</summary>
public interface ISalesByDayIndex
{
    /// <summary>The entries created in [<paramref name="from"/>, <paramref name="to"/>), newest first, of one machine
    /// when <paramref name="machineId"/> is set; after <paramref name="continuation"/> when it is one this index made
    /// (<see cref="ContinuationAfter"/>), else from the start.</summary>
    IAsyncEnumerable<DayIndexEntry> ReadAsync(DateTimeOffset from, DateTimeOffset to, string? machineId, string? continuation, CancellationToken cancellationToken);

    /// <summary>The token that resumes a read right after <paramref name="entry"/>.</summary>
    string ContinuationAfter(DayIndexEntry entry);
}

public interface IFleetQueries
{
    Task<SalePage> ListAsync(FleetSalesQuery query, CancellationToken cancellationToken);

    Task<FleetSummary> SummaryAsync(CancellationToken cancellationToken);

    /// <summary>The sales of a range as CSV for bookkeeping, newest first, one line per sale, amounts in major units.</summary>
    Task<string> ExportCsvAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

/// <summary>
/// Reads over the all-machines day listing (<see cref="ISalesByDayIndex"/>): one partition per UTC day, RowKeys newest first, so a time range is a
/// handful of partition range queries and never a scan. A state filter is applied to the sales read (states change,
/// the listing does not); a page stops after <see cref="MaxRowsPerPage"/> listing rows so a rare state never makes one
/// request read a month, and answers with a token to go on.
/// </summary>
public sealed class FleetQueries(ISalesByDayIndex index, ISaleStore store, TimeProvider time) : IFleetQueries
{
    public const int MaxPageSize = 100;
    public const int MaxRowsPerPage = 1000;
    public const int MaxSummarySales = 20_000;
    public const int MaxExportSales = 50_000;
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(92);

    public async Task<SalePage> ListAsync(FleetSalesQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var views = new List<SaleView>();
        var examined = 0;
        DayIndexEntry? last = null;
        await foreach (var entry in index.ReadAsync(query.From, query.To, query.MachineId, query.ContinuationToken, cancellationToken))
        {
            if (views.Count == query.PageSize || examined >= MaxRowsPerPage)
            {
                return new SalePage(views, index.ContinuationAfter(last!));
            }

            examined++;
            last = entry;
            if (await store.GetAsync(entry.Reference, cancellationToken) is { } sale && (query.State is null || sale.State == query.State))
            {
                views.Add(SaleViews.ToView(sale));
            }
        }

        return new SalePage(views, null);
    }

    public async Task<FleetSummary> SummaryAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var todayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var monthStart = todayStart.AddDays(-29);
        var (sales, truncated) = await SalesAsync(monthStart, now.AddTicks(1), MaxSummarySales, cancellationToken);
        return new FleetSummary(now,
            Period(todayStart, now, sales.Where(s => s.CreatedAt >= todayStart).ToList()),
            Period(monthStart, now, sales),
            truncated);
    }

    public async Task<string> ExportCsvAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var (sales, _) = await SalesAsync(from, to, MaxExportSales, cancellationToken);
        var csv = new StringBuilder();
        csv.Append("reference,createdAt,machineId,machineSaleId,merchantId,state,currency,amount,authorized,captured,cancelled,refunded\r\n");
        foreach (var sale in sales)
        {
            var digits = CurrencyDigits(sale.Currency);
            csv.Append(CultureInfo.InvariantCulture, $"{Field(sale.Reference)},{sale.CreatedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{Field(sale.MachineId)},{Field(sale.MachineSaleId)},{Field(sale.MerchantId)},{sale.State},{sale.Currency},")
               .Append(CultureInfo.InvariantCulture, $"{Major(sale.Amount, digits)},{Major(sale.AuthorizedAmount, digits)},{Major(sale.CapturedAmount, digits)},{Major(sale.CancelledAmount, digits)},{Major(sale.RefundedAmount, digits)}\r\n");
        }

        return csv.ToString();
    }

    /// <summary>ISO 4217 minor-unit digits of the currencies a merchant may sell in; 2 for any other.</summary>
    public static int CurrencyDigits(string currency) => currency switch
    {
        "ISK" or "JPY" or "KRW" => 0,
        _ => 2,
    };

    /// <summary>Minor units as a decimal amount with the currency's digits ("2500" NOK is "25.00").</summary>
    public static string Major(long minor, int digits) =>
        digits == 0 ? minor.ToString(CultureInfo.InvariantCulture) : (minor / (decimal)Math.Pow(10, digits)).ToString("F" + digits, CultureInfo.InvariantCulture);

    private async Task<(List<Sale> Sales, bool Truncated)> SalesAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken)
    {
        var references = new List<string>();
        var truncated = false;
        await foreach (var entry in index.ReadAsync(from, to, null, null, cancellationToken))
        {
            if (references.Count == max)
            {
                truncated = true;
                break;
            }

            references.Add(entry.Reference);
        }

        var sales = new List<Sale>(references.Count);
        foreach (var batch in references.Chunk(32))
        {
            sales.AddRange((await Task.WhenAll(batch.Select(r => store.GetAsync(r, cancellationToken)))).OfType<Sale>());
        }

        return (sales, truncated);
    }

    private static PeriodSummary Period(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<Sale> sales) => new(from, to,
        Figures(sales, s => s.MachineId),
        Figures(sales, s => s.MerchantId),
        sales.GroupBy(s => (Day: s.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), s.Currency))
            .Select(g => new DayFigures(g.Key.Day, g.Key.Currency, g.Count(), g.Sum(s => s.CapturedAmount), g.Sum(s => s.RefundedAmount)))
            .OrderBy(d => d.Day, StringComparer.Ordinal).ThenBy(d => d.Currency, StringComparer.Ordinal).ToList());

    private static List<SalesFigures> Figures(IReadOnlyList<Sale> sales, Func<Sale, string> key) =>
        sales.GroupBy(s => (Key: key(s), s.Currency))
            .Select(g => new SalesFigures(g.Key.Key, g.First().MerchantId, g.Key.Currency, g.Count(), g.Sum(s => s.CapturedAmount), g.Sum(s => s.RefundedAmount)))
            .OrderBy(f => f.Key, StringComparer.Ordinal).ThenBy(f => f.Currency, StringComparer.Ordinal).ToList();

    // Spreadsheet programs run a cell starting with = + - @ as a formula: such a value is quoted with a leading '.
    private static string Field(string value)
    {
        var safe = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;
        return safe.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }
}
