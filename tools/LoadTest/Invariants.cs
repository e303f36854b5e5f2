namespace LoadTest;

/// <summary>Our state row of a sale, as read from the <c>Sales</c> table (RowKey <c>state</c>).</summary>
public sealed record StoredSale(
    string Reference,
    string MachineId,
    string MachineSaleId,
    string State,
    string CaptureMode,
    long Amount,
    long AuthorizedAmount,
    long CapturedAmount,
    long CancelledAmount,
    long RefundedAmount,
    long DeliveredAmount,
    int PendingOperations,
    bool VendReported);

/// <summary>What Vipps (the simulator's ledger) says moved for one payment.</summary>
public sealed record VippsPayment(
    string Reference,
    string State,
    long Amount,
    long Authorized,
    long Captured,
    long Cancelled,
    long Refunded,
    int SuccessfulCaptures);

public sealed record Violation(string Sale, string Rule, string Detail)
{
    public override string ToString() => $"{Sale}: {Rule}: {Detail}";
}

/// <summary>Everything the checker looks at, gathered once the run has converged (or given up waiting).</summary>
public sealed record Observation(
    IReadOnlyList<SaleRecord> Sales,
    IReadOnlyList<StoredSale> Stored,
    IReadOnlyList<VippsPayment> Payments,
    IReadOnlySet<string> DroppedAuthorizedWebhooks);

/// <summary>
/// The money invariants, checked per sale against what the harness itself did (the ground truth of delivery), our
/// tables and Vipps' ledger. Pure: the tests feed it hand-made observations to prove that each rule does fire.
/// </summary>
public static class Invariants
{
    public static readonly IReadOnlySet<string> FinalStates =
        new HashSet<string>(StringComparer.Ordinal) { "Captured", "Cancelled", "Aborted", "Expired", "Failed", "Refunded" };

    public static IReadOnlyList<Violation> Check(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var violations = new List<Violation>();
        var stored = observation.Stored.ToDictionary(s => s.Reference, StringComparer.Ordinal);
        var byMachineSale = observation.Stored.ToDictionary(s => (s.MachineId, s.MachineSaleId));
        var payments = observation.Payments.ToDictionary(p => p.Reference, StringComparer.Ordinal);
        var known = new HashSet<string>(StringComparer.Ordinal);

        foreach (var sale in observation.Sales)
        {
            var name = sale.Reference ?? $"{sale.MachineId}/{sale.MachineSaleId}";
            var row = sale.Reference is not null ? stored.GetValueOrDefault(sale.Reference) : byMachineSale.GetValueOrDefault((sale.MachineId, sale.MachineSaleId));
            if (row is null)
            {
                // A create that never got an answer may have left nothing behind; anything else must be stored.
                if (sale.Note?.Contains("open_sale_exists", StringComparison.Ordinal) == true)
                {
                    violations.Add(new Violation(name, "machine-blocked", $"the machine's previous sale stayed open for minutes, so this sale never started ({sale.Note})"));
                }
                else if (!sale.CreateAbandoned)
                {
                    violations.Add(new Violation(name, "stored", $"the sale has no state row in the Sales table ({sale.Note ?? "create answered " + sale.CreateState})"));
                }

                continue;
            }

            name = row.Reference;
            known.Add(row.Reference);
            var payment = payments.GetValueOrDefault(row.Reference);
            CheckSale(sale, row, payment, violations);
            if (observation.DroppedAuthorizedWebhooks.Contains(row.Reference) && !IsSettled(row))
            {
                violations.Add(new Violation(name, "dropped-webhook-converged",
                    $"its AUTHORIZED webhook was dropped and the sale did not converge by polling (state {row.State})"));
            }
        }

        // Vipps must hold no money for a payment nobody knows about (e.g. a retried create that made a second payment).
        foreach (var payment in observation.Payments.Where(p => !known.Contains(p.Reference)))
        {
            if (payment.Authorized > 0 || payment.Captured > 0)
            {
                violations.Add(new Violation(payment.Reference, "no-stray-money",
                    $"Vipps payment with authorized {payment.Authorized}, captured {payment.Captured} belongs to no sale of the run"));
            }
        }

        return violations;
    }

    private static bool IsSettled(StoredSale row) => FinalStates.Contains(row.State) && row.PendingOperations == 0;

    private static void CheckSale(SaleRecord sale, StoredSale row, VippsPayment? payment, List<Violation> violations)
    {
        var name = row.Reference;
        void Fail(string rule, string detail) => violations.Add(new Violation(name, rule, detail));

        if (!IsSettled(row))
        {
            Fail("final-in-time", $"not final within the deadline: state {row.State}, {row.PendingOperations} operation(s) pending");
        }

        var captured = payment?.Captured ?? 0;
        var authorized = payment?.Authorized ?? 0;
        var cancelled = payment?.Cancelled ?? 0;
        var refunded = payment?.Refunded ?? 0;
        var atAuthorization = row.CaptureMode == "OnAuthorization";

        if (!atAuthorization)
        {
            var expected = sale.VendAccepted ? sale.DeliveredAmount : 0;
            if (captured != expected)
            {
                Fail("captured-equals-delivered", sale.VendAccepted
                    ? $"Vipps captured {captured} but the machine delivered {sale.DeliveredAmount}"
                    : $"Vipps captured {captured} without an accepted delivery report");
            }

            if (refunded != 0)
            {
                Fail("no-refund-without-operator", $"Vipps refunded {refunded}; the run issued no refund");
            }
        }
        else if (sale.VendAccepted && captured - refunded != sale.DeliveredAmount)
        {
            Fail("captured-equals-delivered", $"capture at authorization: captured {captured} - refunded {refunded} differs from delivered {sale.DeliveredAmount}");
        }
        else if (!sale.VendAccepted && captured != 0 && captured != authorized)
        {
            Fail("captured-equals-delivered", $"capture at authorization without a report: captured {captured} of authorized {authorized}");
        }

        if (payment is { SuccessfulCaptures: > 1 })
        {
            Fail("single-capture", $"{payment.SuccessfulCaptures} capture operations succeeded at Vipps (at most one allowed)");
        }

        // No final state may hold the customer's money reserved: whatever our books say, Vipps must have captured or
        // released all of it (a late AUTHORIZED after expiry, a failed capture, a dead capture-at-authorization machine).
        var reserved = authorized - captured - cancelled;
        if (FinalStates.Contains(row.State) && reserved > 0)
        {
            Fail("no-reserved-at-rest",
                $"final state {row.State} but Vipps still holds {reserved} reserved (authorized {authorized}, captured {captured}, cancelled {cancelled})");
        }
        else if (authorized > 0 && IsSettled(row) && cancelled != authorized - captured)
        {
            Fail("cancelled-is-remainder", $"authorized {authorized}, captured {captured}, cancelled {cancelled}: cancelled is not the uncaptured remainder");
        }

        // Our bookkeeping agrees with Vipps once settled.
        if (IsSettled(row) && (row.CapturedAmount != captured || row.CancelledAmount != cancelled || row.RefundedAmount != refunded))
        {
            Fail("books-match-vipps",
                $"our row says captured {row.CapturedAmount}, cancelled {row.CancelledAmount}, refunded {row.RefundedAmount}; Vipps {captured}, {cancelled}, {refunded}");
        }

        if (sale.VendAccepted && row.DeliveredAmount != sale.DeliveredAmount)
        {
            Fail("delivered-recorded", $"the machine reported {sale.DeliveredAmount} delivered; the row says {row.DeliveredAmount}");
        }

        if (row.State is "Aborted" or "Expired" or "Cancelled" && captured != 0)
        {
            Fail("state-matches-money", $"state {row.State} but Vipps captured {captured}");
        }

        if (row.State == "Captured" && captured == 0)
        {
            Fail("state-matches-money", "state Captured but Vipps captured nothing");
        }
    }
}
