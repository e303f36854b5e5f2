namespace Vending.Core.Sales;

/// <summary>
/// When the reconciler must next look at a sale (the time of its row in the due index). Never later than any of the
/// reconciler's rules needs: a create without Vipps' answer, a payment left CREATED (lost webhooks, expiry), a vend
/// report that does not come, a command chain that stalls, a finished sale to compare with Vipps and close.
/// </summary>
public static class DueSchedule
{
    /// <summary>A create whose answer we never got is retried after this (the request itself may still be running).</summary>
    public static readonly TimeSpan CreateRetryAfter = TimeSpan.FromMinutes(1);

    /// <summary>When a payment still CREATED is first checked against Vipps' event log by the reconciler (a lost webhook
    /// while the machine is gone); then at its expiry. A waiting machine's long poll checks every 2 s itself.</summary>
    public static readonly TimeSpan CreatedCheck = TimeSpan.FromSeconds(30);

    /// <summary>A sale the reconciler looked at and could not move on (Vipps unreachable) is looked at again after this.</summary>
    public static readonly TimeSpan RevisitFloor = TimeSpan.FromSeconds(5);

    /// <summary>The first due time, at create: the earliest any later rule can need (a vend deadline counts from the
    /// authorization and a command's staleness from its issue, both after the create), so most transitions never
    /// have to move the row; a sale finished by then is closed on that one visit.</summary>
    public static DateTimeOffset AtCreate(Sale sale, VendingOptions options) =>
        sale.CreatedAt + Min(CreatedCheck, CreateRetryAfter, TimeSpan.FromSeconds(options.VendReportDeadlineSeconds),
            TimeSpan.FromSeconds(options.CommandStaleSeconds));

    /// <summary>A final sale with nothing pending and no vend report awaited: the reconciler compares it with Vipps once
    /// and removes it from the index.</summary>
    public static bool IsClosable(Sale sale) =>
        sale.IsFinal && !sale.HasPendingOperations && !SaleTransitions.AwaitsVendAfterCapture(sale);

    /// <summary>The next time a rule needs the sale (<paramref name="now"/> when it is closable).</summary>
    public static DateTimeOffset Next(Sale sale, VendingOptions options, DateTimeOffset now)
    {
        if (IsClosable(sale))
        {
            return now;
        }

        var next = DateTimeOffset.MaxValue;
        if (sale.State == SaleState.Created && !sale.PaymentCreated)
        {
            next = Earliest(next, sale.CreatedAt + CreateRetryAfter);
        }
        else if (sale.State == SaleState.Created)
        {
            // After its first check (AtCreate), a payment left CREATED waits for its expiry: a waiting machine's long
            // poll asks Vipps itself, and without one nothing can be vended anyway (a lost AUTHORIZED is then found
            // at expiry and released after the vend deadline). So open sales nobody touches cost an idle pass nothing.
            next = Earliest(next, sale.ExpiresAt + TimeSpan.FromSeconds(options.ExpiryGraceSeconds));
        }

        if ((sale.State == SaleState.Authorized || SaleTransitions.AwaitsVendAfterCapture(sale)) && sale.Vend is null && sale.AuthorizedAt is { } authorizedAt)
        {
            next = Earliest(next, authorizedAt + TimeSpan.FromSeconds(options.VendReportDeadlineSeconds));
        }

        foreach (var operation in sale.Operations.Where(operation => operation.Status == OperationStatus.Pending))
        {
            next = Earliest(next, operation.DueAt + TimeSpan.FromSeconds(options.CommandStaleSeconds));
        }

        // Nothing above applies (a state no rule covers): look again after a stale period rather than never.
        return next == DateTimeOffset.MaxValue ? now + TimeSpan.FromSeconds(options.CommandStaleSeconds) : next;
    }

    /// <summary>Whole milliseconds, UTC: the precision a due time is stored with, so a due time computed here equals
    /// the one read back from storage (and the due index's row key made from either is the same key).</summary>
    public static DateTimeOffset Normalize(DateTimeOffset at) =>
        new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;

    private static TimeSpan Min(params TimeSpan[] spans) => spans.Min();
}
