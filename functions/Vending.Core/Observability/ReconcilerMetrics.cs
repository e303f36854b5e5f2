using System.Diagnostics.Metrics;

namespace Vending.Core.Observability;

/// <summary>
/// What one reconciler pass found due, recorded as gauges when the pass ends. A sale is due when a rule of the
/// reconciler applies to it: a create to retry, a payment past expiry plus grace, an authorization past its vend
/// deadline, a command pending past its stale time. The lag is how far the oldest due moment lies behind the pass:
/// it grows when passes are too slow or too rare to keep up. Thread-safe: the pass reconciles sales in parallel.
/// </summary>
public sealed class ReconcilerPass(DateTimeOffset now, VendingOptions options)
{
    public const string DueName = "vending.reconciler.due";
    public const string LagName = "vending.reconciler.lag";
    public const string ReservedOverdueName = "vending.sales.reserved_overdue";

    /// <summary>The reconciler's own wait before it retries a create whose answer was lost.</summary>
    public static readonly TimeSpan CreateRetryAfter = TimeSpan.FromMinutes(1);

    private static readonly Gauge<long> DueGauge = VendingTelemetry.Meter.CreateGauge<long>(
        DueName, "{sale}", "Open sales a reconciler pass found due for action.");

    private static readonly Gauge<double> LagGauge = VendingTelemetry.Meter.CreateGauge<double>(
        LagName, "s", "How long the oldest due sale of a pass had been due (0 when none).");

    private static readonly Gauge<long> ReservedOverdueGauge = VendingTelemetry.Meter.CreateGauge<long>(
        ReservedOverdueName, "{sale}", "Authorized sales with no vend report past their vend deadline: money reserved that should be released.");

    private readonly Lock _lock = new();
    private int _due;
    private int _reservedOverdue;
    private TimeSpan _lag;

    public int Due => _due;

    public int ReservedOverdue => _reservedOverdue;

    public TimeSpan Lag => _lag;

    /// <summary>Looks at a sale as the pass first read it.</summary>
    public void Observe(Sale sale)
    {
        if (DueAt(sale) is not { } dueAt || dueAt > now)
        {
            return;
        }

        lock (_lock)
        {
            _due++;
            if (sale.State == SaleState.Authorized && sale.Vend is null)
            {
                _reservedOverdue++;
            }

            if (now - dueAt > _lag)
            {
                _lag = now - dueAt;
            }
        }
    }

    /// <summary>The earliest moment a reconciler rule applies to the sale, or null when none will.</summary>
    public DateTimeOffset? DueAt(Sale sale)
    {
        var candidates = new List<DateTimeOffset>();
        if (sale.State == SaleState.Created)
        {
            candidates.Add(sale.PaymentCreated ? sale.ExpiresAt + TimeSpan.FromSeconds(options.ExpiryGraceSeconds) : sale.CreatedAt + CreateRetryAfter);
        }

        if (sale.State == SaleState.Authorized && sale.Vend is null && sale.AuthorizedAt is { } authorizedAt)
        {
            candidates.Add(authorizedAt + TimeSpan.FromSeconds(options.VendReportDeadlineSeconds));
        }

        candidates.AddRange(sale.Operations
            .Where(operation => operation.Status == OperationStatus.Pending)
            .Select(operation => operation.EnqueuedAt + TimeSpan.FromSeconds(options.CommandStaleSeconds)));
        return candidates.Count == 0 ? null : candidates.Min();
    }

    /// <summary>Records the pass's figures (called once, when the pass ends).</summary>
    public void Record()
    {
        DueGauge.Record(_due);
        LagGauge.Record(_lag.TotalSeconds);
        ReservedOverdueGauge.Record(_reservedOverdue);
    }
}
