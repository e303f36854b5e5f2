using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Vending.Core.Machines;
using Vending.Core.Sales;
using Vending.Core.Storage;

namespace Vending.Core.Operator;

/// <summary>One machine's sales, newest first, created in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record SalesQuery(string MachineId, DateTimeOffset? From, DateTimeOffset? To, int PageSize, string? ContinuationToken);

/// <summary>A page of sales; <see cref="ContinuationToken"/> is null on the last page.</summary>
public sealed record SalePage(IReadOnlyList<SaleView> Sales, string? ContinuationToken);

/// <summary>A sale that has not converged, and why.</summary>
/// <summary>A sale that has not converged, and why. <see cref="ReservedAmount"/> is what Vipps still holds for it by
/// our books; <see cref="DeliveredNotChargedAmount"/> what a late vend report says left the machine unpaid;
/// <see cref="LastError"/> the last transient or credentials failure of its pending operation.</summary>
public sealed record ReconciliationItem(string Reference, string MachineId, string MerchantId, SaleState State, string Reason,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? FailureCode, long AuthorizedAmount, long CapturedAmount, long RefundedAmount,
    long ReservedAmount = 0, long DeliveredNotChargedAmount = 0, string? LastError = null);

public sealed record ReconciliationReport(DateTimeOffset GeneratedAt, int OpenSalesExamined, int MachineSalesExamined, IReadOnlyList<ReconciliationItem> Items);

/// <summary>Operator reads over the indexes: each machine's listing rows (its partition of <c>Sales</c>, newest first) and
/// <c>OpenSales</c> (the due index: every open sale has a row). Never a scan of the <c>Sales</c> table.</summary>
public interface IOperatorSaleQueries
{
    Task<SalePage> ListAsync(SalesQuery query, CancellationToken cancellationToken);

    /// <summary>Sales open past their deadlines (from <c>OpenSales</c>) and Failed sales (from <c>OpenSales</c> and each
    /// machine's latest <paramref name="lookbackPerMachine"/> sales).</summary>
    Task<ReconciliationReport> ReconcileAsync(int lookbackPerMachine, CancellationToken cancellationToken);
}

public sealed partial class OperatorSaleQueries(
    VendingTables tables,
    ISaleStore store,
    IDueSaleIndex due,
    IMachineDirectory machines,
    IOptions<VendingOptions> options,
    TimeProvider time) : IOperatorSaleQueries
{
    public const int MaxPageSize = 100;

    /// <summary>At most this many pages of <c>Vending:ReconcileBatchSize</c> open sales per report.</summary>
    public const int MaxOpenSalePages = 20;
    private const string ListingPrefix = SaleEntities.ListingPrefix;

    public async Task<SalePage> ListAsync(SalesQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Listing RowKeys are t-{MaxTicks - createdTicks:D19}-{reference}: ascending RowKey = newest first.
        var lower = query.To is { } to ? ListingKey(to) : ListingPrefix;
        var upper = query.From is { } from ? ListingKey(from.AddTicks(-1)) : TableKeys.RangeEnd(ListingPrefix);
        var after = query.ContinuationToken is null ? null : DecodeToken(query.ContinuationToken);
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {query.MachineId} and RowKey ge {lower} and RowKey lt {upper}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {query.MachineId} and RowKey gt {after} and RowKey ge {lower} and RowKey lt {upper}");

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var rows = new List<(string RowKey, string Reference)>();
        var more = false;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: query.PageSize + 1, select: ["RowKey", "Reference"], cancellationToken: cancellationToken))
        {
            if (rows.Count == query.PageSize)
            {
                more = true;
                break;
            }

            rows.Add((row.RowKey, row.GetString("Reference") ?? ""));
        }

        var sales = await Task.WhenAll(rows.Select(row => store.GetAsync(row.Reference, cancellationToken)));
        var views = sales.OfType<Sale>().Select(sale => SaleViews.ToView(sale)).ToList();
        return new SalePage(views, more ? EncodeToken(rows[^1].RowKey) : null);
    }

    public async Task<ReconciliationReport> ReconcileAsync(int lookbackPerMachine, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        var items = new Dictionary<string, ReconciliationItem>(StringComparer.Ordinal);

        // Every open sale, page by page (the list is the reconciler's work list, not a scan of Sales), bounded so one
        // report stays cheap even when the list is long.
        var openCount = 0;
        string? after = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var page = 0; page < MaxOpenSalePages; page++)
        {
            var open = await due.ListAsync(settings.ReconcileBatchSize, after, cancellationToken);
            // A sale whose row was just moved can be listed twice for a moment: count and read it once.
            var references = open.Select(entry => entry.Reference).Where(seen.Add).ToList();
            openCount += references.Count;
            foreach (var sale in (await Task.WhenAll(references.Select(reference => store.GetAsync(reference, cancellationToken)))).OfType<Sale>())
            {
                if (Reason(sale, now, settings) is { } reason)
                {
                    items[sale.Reference] = Item(sale, reason);
                }
            }

            if (open.Count < settings.ReconcileBatchSize)
            {
                break;
            }

            after = open[^1].RowKey;
        }

        var examined = 0;
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        foreach (var machine in await machines.ListAsync(cancellationToken))
        {
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {machine.MachineId} and RowKey ge {ListingPrefix} and RowKey lt {TableKeys.RangeEnd(ListingPrefix)}");
            var references = new List<string>();
            await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: lookbackPerMachine, select: ["Reference"], cancellationToken: cancellationToken))
            {
                references.Add(row.GetString("Reference") ?? "");
                if (references.Count >= lookbackPerMachine)
                {
                    break;
                }
            }

            examined += references.Count;
            foreach (var sale in (await Task.WhenAll(references.Where(r => !items.ContainsKey(r)).Select(r => store.GetAsync(r, cancellationToken)))).OfType<Sale>())
            {
                if (Reason(sale, now, settings) is { } reason)
                {
                    items[sale.Reference] = Item(sale, reason);
                }
            }
        }

        var ordered = items.Values.OrderByDescending(item => item.CreatedAt).ToList();
        return new ReconciliationReport(now, openCount, examined, ordered);
    }

    /// <summary>Why a sale has not converged, or null when it is fine (final, or still within its deadlines).</summary>
    public static string? Reason(Sale sale, DateTimeOffset now, VendingOptions settings)
    {
        if (sale.State == SaleState.Failed)
        {
            return Reserved(sale) > 0 ? "failed_with_money_reserved" : "failed";
        }

        if (sale.DeliveredNotChargedAmount > 0)
        {
            return "delivered_not_charged";
        }

        if (sale.Operations.FirstOrDefault(o => o.Status == OperationStatus.Pending && o.LastError is "vipps_http_401" or "vipps_http_403") is { } refused)
        {
            return $"{refused.Kind.ToString().ToLowerInvariant()}_credentials_refused";
        }

        if (sale.State == SaleState.Created && now > sale.ExpiresAt.AddSeconds(settings.ExpiryGraceSeconds))
        {
            return "created_past_expiry";
        }

        if (sale.State == SaleState.Authorized && sale.AuthorizedAt is { } authorizedAt
            && now > authorizedAt.AddSeconds(settings.VendReportDeadlineSeconds + settings.CommandStaleSeconds))
        {
            return "authorized_past_vend_deadline";
        }

        if (sale.Operations.FirstOrDefault(o => o.Status == OperationStatus.Pending) is { } pending
            && now > pending.IssuedAt.AddSeconds(settings.CommandStaleSeconds * 2))
        {
            return $"{pending.Kind.ToString().ToLowerInvariant()}_pending_too_long";
        }

        return null;
    }

    private static ReconciliationItem Item(Sale sale, string reason) => new(sale.Reference, sale.MachineId, sale.MerchantId, sale.State, reason,
        sale.CreatedAt, sale.UpdatedAt, sale.FailureCode, sale.AuthorizedAmount, sale.CapturedAmount, sale.RefundedAmount,
        Reserved(sale), sale.DeliveredNotChargedAmount,
        sale.Operations.LastOrDefault(o => o.Status == OperationStatus.Pending)?.LastError);

    private static long Reserved(Sale sale) =>
        sale.AuthorizedAt is null ? 0 : Math.Max(0, sale.AuthorizedAmount - sale.CapturedAmount - sale.CancelledAmount);

    private static string ListingKey(DateTimeOffset time) => $"{ListingPrefix}{DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks:D19}";

    /// <summary>The token is the last RowKey of the page, base64url; anything else is refused, never queried.</summary>
    public static bool IsValidToken(string token) => DecodeToken(token) is not null;

    private static string EncodeToken(string rowKey) => PageToken.Encode(rowKey);

    private static string? DecodeToken(string token) =>
        PageToken.Decode(token) is { } rowKey && ListingRowKey().IsMatch(rowKey) ? rowKey : null;

    [GeneratedRegex("^t-[0-9]{19}-[a-zA-Z0-9-]{8,64}$")]
    private static partial Regex ListingRowKey();
}
