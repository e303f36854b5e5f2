using Azure.Data.Tables;
using Vending.Stack;
using VippsSimulator.Hosting;
using VippsSimulator.Webhooks;

namespace LoadTest.Phases;

/// <summary>
/// After the load: the latency figures, then what Vipps' ledger and our tables say, checked against the money
/// invariants; a violation comes with its sale's history, and the reconciler's release lag is read from the histories.
/// </summary>
internal static class ObservePhase
{
    private const string AuthorizedEvent = "epayments.payment.authorized.v1";

    /// <summary>The latencies the machines measured during the drive and the burst.</summary>
    public static void CollectLatencies(RunContext run)
    {
        var report = run.Report;
        report.ApprovalToMachine = run.Metrics.ApprovalToMachine.Summarize();
        if (run.Stack.Front is { } front)
        {
            (report.ApprovalSameInstance, report.ApprovalCrossInstance) = SplitByInstance(run.Records, front);
        }

        var deliveries = run.Simulator.WebhookDeliveries.Snapshot();
        (report.ApprovalWebhookDelivered, report.ApprovalWebhookDropped) = SplitByWebhook(run.Records, deliveries);
        report.Diagnostics.Approval = ApprovalBreakdown.Of(run.Records, deliveries, report.Diagnostics.RestartWindows);
        var droppedAuthorized = deliveries.Where(d => d.EventType == AuthorizedEvent).GroupBy(d => d.Reference, StringComparer.Ordinal)
            .Where(g => g.Any(d => d.Status == DeliveryStatus.Dropped) && g.All(d => d.Status != DeliveryStatus.Delivered))
            .Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        report.Diagnostics.DroppedFromPollAllowed = LatencyDiagnostics.FromPollAllowed(run.Records, droppedAuthorized, Vending.Core.Sales.SaleService.PollAfter);
        (report.Diagnostics.CreateUntilVippsCreated, report.Diagnostics.CreateAfterVippsCreated) =
            LatencyDiagnostics.CreateLegs(run.Records.Where(r => r.Phase == "drive"), reference => run.Simulator.Ledger.Find(reference)?.CreatedAt);
        report.CreatePayment = run.Metrics.CreatePayment.Summarize();
    }

    /// <summary>Approval latencies split by what the simulator did with the sale's AUTHORIZED webhook: delivered (a 2xx
    /// came back for some delivery of it), or dropped by a fault and never delivered (the machine learned it from the
    /// long poll's own Vipps poll or the reconciler). Sales whose webhook was still pending or abandoned are in neither.</summary>
    internal static (LatencySummary Delivered, LatencySummary Dropped) SplitByWebhook(IEnumerable<SaleRecord> records, IReadOnlyList<WebhookDeliveryView> deliveries)
    {
        var authorized = deliveries.Where(d => d.EventType == AuthorizedEvent).ToLookup(d => d.Reference, StringComparer.Ordinal);
        var delivered = new LatencyRecorder();
        var dropped = new LatencyRecorder();
        foreach (var record in records)
        {
            if (record is not { Reference: { } reference, ApprovalToMachine: { } latency })
            {
                continue;
            }

            var webhooks = authorized[reference].ToList();
            if (webhooks.Any(d => d.Status == DeliveryStatus.Delivered))
            {
                delivered.Add(latency);
            }
            else if (webhooks.Any(d => d.Status == DeliveryStatus.Dropped))
            {
                dropped.Add(latency);
            }
        }

        return (delivered.Summarize(), dropped.Summarize());
    }

    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var (report, tables, simulator, records) = (run.Report, run.Tables, run.Simulator, run.Records);
        run.Log("Checking the invariants against Vipps' ledger and the Sales table ...");
        var observation = await ObserveAsync(tables, simulator, records, cancellationToken);
        run.Observation = observation;
        report.Violations.AddRange(Invariants.Check(observation));
        report.Vipps.InFlightConflicts = simulator.Pipeline.InFlightConflicts;
        await AddHistoriesAsync(report, tables, observation, cancellationToken);
        report.ReleaseAfterDeadline = await MeasureReleaseLagAsync(run, tables, records, cancellationToken);
        Summarize(report, records, observation);
    }

    /// <summary>Approval latencies split by whether the long poll that answered ran on the instance the AUTHORIZED
    /// webhook landed on (woken in process) or on another (it saw the change by re-reading storage).</summary>
    internal static (LatencySummary Same, LatencySummary Cross) SplitByInstance(IEnumerable<SaleRecord> records, RoundRobinFront front)
    {
        var same = new LatencyRecorder();
        var cross = new LatencyRecorder();
        foreach (var record in records)
        {
            if (record is not { Reference: { } reference, ApprovalToMachine: { } latency, ApprovalAnsweredBy: { } answeredBy })
            {
                continue;
            }

            var landing = front.WebhooksFor(reference).FirstOrDefault(w => w.EventName == "AUTHORIZED" && w.Status is >= 200 and < 300);
            if (landing is null)
            {
                continue;
            }

            (landing.Instance == answeredBy ? same : cross).Add(latency);
        }

        return (same.Summarize(), cross.Summarize());
    }

    private static async Task<Observation> ObserveAsync(TableServiceClient tables, RunningSimulator simulator, List<SaleRecord> records, CancellationToken cancellationToken)
    {
        var stored = await SalesTable.ReadSalesAsync(tables, cancellationToken);
        var payments = simulator.Ledger.All().Select(summary =>
        {
            var entry = simulator.Ledger.Find(summary.Reference, summary.Msn);
            var captures = entry?.Operations.Count(o => o.Operation == "capture" && o.Outcome == "ok" && !o.Replayed) ?? 0;
            return new VippsPayment(summary.Reference, summary.State.ToString(), summary.Amount.Value, summary.Authorized, summary.Captured,
                summary.Cancelled, summary.Refunded, captures);
        }).ToList();
        var dropped = simulator.WebhookDeliveries.Snapshot()
            .Where(d => d.Status == DeliveryStatus.Dropped && d.EventType == AuthorizedEvent)
            .Select(d => d.Reference)
            .ToHashSet(StringComparer.Ordinal);
        return new Observation(records, stored, payments, dropped);
    }

    internal static void Summarize(LoadReport report, List<SaleRecord> records, Observation observation)
    {
        var rows = observation.Stored.ToDictionary(r => (r.MachineId, r.MachineSaleId));
        var sales = report.Sales;
        sales.Total = records.Count;
        foreach (var record in records)
        {
            var state = rows.TryGetValue((record.MachineId, record.MachineSaleId), out var row) ? row.State : "(none)";
            sales.ByState[state] = sales.ByState.GetValueOrDefault(state) + 1;
            var scenario = $"{record.Scenario.Customer}/{(record.Scenario.Customer == CustomerAction.Approve ? record.Scenario.Machine.ToString() : "-")}";
            sales.ByScenario[scenario] = sales.ByScenario.GetValueOrDefault(scenario) + 1;
            if (row is not null && Invariants.FinalStates.Contains(row.State) && row.PendingOperations == 0)
            {
                sales.Final++;
            }
            else if (row is not null)
            {
                sales.NotFinal++;
            }
        }

        sales.VendRefused = records.Count(r => r.VendRefusal is not null);
        foreach (var late in records.Where(r => r.VendRefusalCode == LoadHarness.VendReportTooLate && r.RefusedDeliveredAmount > 0))
        {
            sales.DeliveredNotCharged++;
            sales.DeliveredNotChargedAmount[late.Currency] = sales.DeliveredNotChargedAmount.GetValueOrDefault(late.Currency) + late.RefusedDeliveredAmount;
        }

        sales.OpenSaleWaits = records.Count(r => r.WaitedForOpenSale);
        sales.OpenSaleRetries = records.Sum(r => r.OpenSaleRetries);
        sales.CreatesAbandoned = records.Count(r => r.CreateAbandoned);

        var deliveries = observation.DroppedAuthorizedWebhooks.Count;
        report.Webhooks.DroppedAuthorized = deliveries;
    }

    /// <summary>
    /// The story of the first sales that broke a rule (their history rows), and for a create that stayed refused with
    /// open_sale_exists, the story of the sale that kept the machine busy: a violation should explain itself.
    /// </summary>
    private static async Task AddHistoriesAsync(LoadReport report, TableServiceClient tables, Observation observation, CancellationToken cancellationToken)
    {
        var byReference = observation.Stored.ToDictionary(s => s.Reference, StringComparer.Ordinal);
        var byMachineSale = observation.Stored.ToDictionary(s => (s.MachineId, s.MachineSaleId));
        var references = new List<string>();
        foreach (var violation in report.Violations)
        {
            if (byReference.ContainsKey(violation.Sale))
            {
                references.Add(violation.Sale);
            }
            else if (System.Text.RegularExpressions.Regex.Match(violation.Detail, @"has an open sale \(([^)]+)\)") is { Success: true } match
                && violation.Sale.Split('/') is [var machine, _]
                && byMachineSale.TryGetValue((machine, match.Groups[1].Value), out var blocking))
            {
                references.Add(blocking.Reference);
            }
        }

        foreach (var reference in references.Distinct(StringComparer.Ordinal).Take(10))
        {
            var lines = new List<string>();
            await foreach (var history in SalesTable.ReadHistoryAsync(tables, reference, cancellationToken))
            {
                lines.Add($"{history.Time:HH:mm:ss.fff} {history.State,-10} {history.Type}: {history.Detail}");
            }

            var record = observation.Sales.FirstOrDefault(r => r.Reference == reference);
            var scenario = record is null ? "" : $" [{record.Phase} {record.Scenario.Customer}/{record.Scenario.Machine}{(record.Scenario.RaceApproval ? " race" : "")}]";
            report.Histories[reference + scenario] = lines;
        }
    }

    /// <summary>
    /// For every crashed machine (authorized, never reported): how long after its vend-report deadline the reconciler
    /// released the reservation, from the sale's own history rows (vipps_authorized -> vend_deadline_passed).
    /// </summary>
    private static async Task<LatencySummary> MeasureReleaseLagAsync(RunContext run, TableServiceClient tables, List<SaleRecord> records, CancellationToken cancellationToken)
    {
        var lags = new List<double>();
        foreach (var record in records.Where(r => r is { SawAuthorization: true, Reference: not null, CaptureAtAuthorization: false } && r.Scenario.Machine == MachineAction.Crash))
        {
            DateTimeOffset? authorized = null, released = null;
            await foreach (var history in SalesTable.ReadHistoryAsync(tables, record.Reference!, cancellationToken))
            {
                switch (history.Type)
                {
                    case "vipps_authorized": authorized ??= history.Time; break;
                    case "vend_deadline_passed": released ??= history.Time; break;
                }
            }

            if (authorized is { } a && released is { } r)
            {
                lags.Add((r - a).TotalMilliseconds - (run.Options.VendReportDeadlineSeconds * 1000.0));
            }
        }

        return LatencySummary.Of([.. lags.Order()]);
    }
}
