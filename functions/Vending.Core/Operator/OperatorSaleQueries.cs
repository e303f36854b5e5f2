using Microsoft.Extensions.Options;
using Vending.Core.Machines;
using Vending.Core.Sales;

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

/// <summary>A page of one machine's listing: the sales' references, newest first, and the token to go on (null on the last page).</summary>
public sealed record MachineSaleReferences(IReadOnlyList<string> References, string? ContinuationToken);

/// <summary>Each machine's listing of its sales, newest first (listing rows in the machine's partition of <c>Sales</c>,
/// in storage).</summary>
public interface IMachineSaleIndex
{
    /// <summary>At most <paramref name="pageSize"/> references of sales created in [<paramref name="from"/>,
    /// <paramref name="to"/>) (either end open when null), after <paramref name="continuationToken"/> when it is one this
    /// listing made, else from the newest.</summary>
    Task<MachineSaleReferences> PageAsync(string machineId, DateTimeOffset? from, DateTimeOffset? to, int pageSize, string? continuationToken, CancellationToken cancellationToken);

    /// <summary>The references of the machine's latest <paramref name="max"/> sales, newest first.</summary>
    Task<IReadOnlyList<string>> LatestAsync(string machineId, int max, CancellationToken cancellationToken);
}

public sealed class OperatorSaleQueries(
    IMachineSaleIndex listing,
    ISaleStore store,
    IDueSaleIndex due,
    IMachineDirectory machines,
    IOptions<VendingOptions> options,
    TimeProvider time) : IOperatorSaleQueries
{
    public const int MaxPageSize = 100;

    /// <summary>At most this many pages of <c>Vending:ReconcileBatchSize</c> open sales per report.</summary>
    public const int MaxOpenSalePages = 20;

    public async Task<SalePage> ListAsync(SalesQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var page = await listing.PageAsync(query.MachineId, query.From, query.To, query.PageSize, query.ContinuationToken, cancellationToken);
        var sales = await Task.WhenAll(page.References.Select(reference => store.GetAsync(reference, cancellationToken)));
        var views = sales.OfType<Sale>().Select(sale => SaleViews.ToView(sale)).ToList();
        return new SalePage(views, page.ContinuationToken);
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
        foreach (var machine in await machines.ListAsync(cancellationToken))
        {
            var references = await listing.LatestAsync(machine.MachineId, lookbackPerMachine, cancellationToken);

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
}
