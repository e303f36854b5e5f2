namespace Vending.Domain.Sales;

public static partial class SaleTransitions
{
    private static SaleDecision OnVendReported(Sale sale, VendReport report, DateTimeOffset now)
    {
        var (delivered, refusal) = DeliveredAmount(sale, report);
        if (refusal is not null)
        {
            return Refuse(sale, refusal.Kind, refusal.Code, refusal.Message, refusal.Field);
        }

        if (sale.Vend is not null)
        {
            return SameReport(sale.Vend, report)
                ? Ignore(sale)
                : Refuse(sale, RefusalKind.Conflict, "vend_already_reported", "A different vend outcome was already reported for this sale.");
        }

        var acceptsReport = sale.State == SaleState.Authorized
            // Capture at authorization: the machine reports after the capture was issued (or done).
            || (sale.CaptureMode == Machines.CaptureMode.OnAuthorization && !sale.ReleaseOnly && !sale.VendDeadlineMissed
                && sale.State is SaleState.Settling or SaleState.Captured);
        if (!acceptsReport)
        {
            return sale switch
            {
                { State: SaleState.Created } => Refuse(sale, RefusalKind.Conflict, "sale_not_authorized", "The payment is not authorized yet: do not dispense."),
                { VendDeadlineMissed: true } => Refuse(sale, RefusalKind.Conflict, "vend_report_too_late", "The vend report came after the deadline; the reservation was released."),
                _ => Refuse(sale, RefusalKind.Conflict, "sale_closed", $"The sale is {sale.State}: no vend report is accepted."),
            };
        }

        var reported = sale with { Vend = Normalize(report), DeliveredAmount = delivered };
        var (after, commands, finalOutbox) = Settle(reported, now);
        var detail = $"{report.Outcome}: delivered {delivered} of {sale.Amount}";
        return Record(sale, after, now, "vend_reported", detail, commands, "vend_reported", finalOutbox);
    }

    private static SaleDecision OnMachineCancel(Sale sale, DateTimeOffset now)
    {
        switch (sale.State)
        {
            case SaleState.Created:
            {
                // Not authorized (as far as we know): cancelTransactionOnly, so an approval racing us gets 6060
                // and stays authorized; that authorization is then released (see OnCommandFailed / OnAuthorized).
                var terminate = NewOperation(sale, OperationKind.Terminate, sale.Amount, now);
                var after = sale with
                {
                    State = SaleState.Settling,
                    CancelRequested = true,
                    ReleaseOnly = true,
                    Operations = [.. sale.Operations, terminate],
                };
                return Record(sale, after, now, "machine_cancel", "machine cancelled before authorization: terminate (cancelTransactionOnly)", [terminate]);
            }

            case SaleState.Authorized:
            {
                var cancelled = sale with { CancelRequested = true, ReleaseOnly = true };
                var (after, commands, finalOutbox) = Settle(cancelled, now);
                return Record(sale, after, now, "machine_cancel", "machine cancelled after authorization: release", commands, finalOutbox);
            }

            case SaleState.Settling when sale.CancelRequested:
            case SaleState.Cancelled or SaleState.Aborted or SaleState.Expired:
                // Already ending or ended without money kept: a repeat of the cancel is answered, not refused.
                return Ignore(sale);

            default:
                return Refuse(sale, RefusalKind.Conflict, "sale_not_cancellable", $"The sale is {sale.State}: it can no longer be cancelled.");
        }
    }

    private static SaleDecision OnVendDeadlinePassed(Sale sale, DateTimeOffset now)
    {
        if (AwaitsVendAfterCapture(sale))
        {
            // Captured at authorization and the machine never said what it delivered: give it all back, once.
            var undelivered = sale with { VendDeadlineMissed = true, DeliveredAmount = 0 };
            var (settled, refundCommands, finalTransition) = Settle(undelivered, now);
            return Record(sale, settled, now, "vend_deadline_passed", "no vend report in time after capture at authorization: refunding", refundCommands, finalTransition);
        }

        if (sale.State != SaleState.Authorized || sale.Vend is not null)
        {
            return Ignore(sale);
        }

        var missed = sale with { VendDeadlineMissed = true, ReleaseOnly = true };
        var (after, commands, finalOutbox) = Settle(missed, now);
        return Record(sale, after, now, "vend_deadline_passed", "no vend report in time: releasing the reservation", commands, finalOutbox);
    }

    /// <summary>Capture at authorization: the money is (being) captured and the machine has not reported yet, so
    /// the vend deadline still applies (a dead machine must not keep the customer charged).</summary>
    public static bool AwaitsVendAfterCapture(Sale sale) =>
        sale.CaptureMode == Machines.CaptureMode.OnAuthorization && sale.AuthorizedAt is not null && sale.Vend is null
        && !sale.VendDeadlineMissed && !sale.ReleaseOnly && sale.State is SaleState.Settling or SaleState.Captured;

    /// <summary>What the report says left the machine, in minor units; or why the report is malformed.</summary>
    internal static (long Delivered, SaleRefusal? Refusal) DeliveredAmount(Sale sale, VendReport report)
    {
        switch (report.Outcome)
        {
            case VendOutcome.Delivered:
                return (sale.Amount, null);
            case VendOutcome.Failed:
                return (0, null);
            case VendOutcome.Partial:
                break;
            default:
                return (0, new SaleRefusal(RefusalKind.Invalid, "invalid_vend_outcome", "Outcome must be delivered, failed or partial.", "outcome"));
        }

        if (report.DeliveredLines is not { Count: > 0 } lines)
        {
            return (0, new SaleRefusal(RefusalKind.Invalid, "delivered_lines_required", "A partial vend lists the delivered lines.", "deliveredLines"));
        }

        if (lines.Select(line => line.ProductId).Distinct(StringComparer.Ordinal).Count() != lines.Count)
        {
            return (0, new SaleRefusal(RefusalKind.Invalid, "invalid_delivered_lines", "Each product appears at most once in deliveredLines.", "deliveredLines"));
        }

        long delivered = 0;
        foreach (var line in lines)
        {
            var ordered = sale.Lines.FirstOrDefault(saleLine => saleLine.ProductId == line.ProductId);
            if (ordered is null || line.Quantity < 0 || line.Quantity > ordered.Quantity)
            {
                return (0, new SaleRefusal(RefusalKind.Invalid, "invalid_delivered_lines",
                    $"Delivered line {line.ProductId} is not in the sale or its quantity is outside 0..ordered.", "deliveredLines"));
            }

            // Cannot overflow: each is at most an ordered line total, and the order total was checked at create.
            delivered += line.Quantity * ordered.UnitPrice;
        }

        return (delivered, null);
    }

    private static VendReport Normalize(VendReport report) => report.Outcome == VendOutcome.Partial
        ? report with { DeliveredLines = report.DeliveredLines!.OrderBy(line => line.ProductId, StringComparer.Ordinal).ToList() }
        : report with { DeliveredLines = null };

    private static bool SameReport(VendReport recorded, VendReport report)
    {
        var normalized = Normalize(report);
        return recorded.Outcome == normalized.Outcome
            && (recorded.DeliveredLines ?? []).SequenceEqual(normalized.DeliveredLines ?? []);
    }
}
