using VippsSimulator.Hosting;
using VippsSimulator.Webhooks;

namespace LoadTest.Phases;

/// <summary>
/// The webhook burst, faults off so it measures handling and not retries: a few hundred sales created, approved at
/// once, their AUTHORIZED webhooks timed until acknowledged, then delivered by their machines and settled.
/// </summary>
internal static class BurstPhase
{
    private const string AuthorizedEvent = "epayments.payment.authorized.v1";

    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (run.Options.BurstSales <= 0)
        {
            return;
        }

        run.Simulator.Faults.Reset();
        var machines = await ProvisionBurstMachinesAsync(run, cancellationToken);
        run.Report.Webhooks = await BurstAsync(run, machines, run.Report.Webhooks, cancellationToken);
        await run.WaitUntilSettledAsync(run.Options.ConvergeTimeout, cancellationToken);
    }

    /// <summary>A machine has at most one open sale, so the burst has a machine per sale.</summary>
    private static async Task<List<VirtualMachine>> ProvisionBurstMachinesAsync(RunContext run, CancellationToken cancellationToken)
    {
        run.Log($"Provisioning {run.Options.BurstSales} burst machines ...");
        var machines = new VirtualMachine[run.Options.BurstSales];
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, run.Options.BurstSales).Select(async k =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var (merchant, currency) = run.Merchants[k % 2];
                var profile = await run.ProvisionOneAsync($"lt-b{k:D3}", merchant, currency, false, cancellationToken);
                machines[k] = run.NewMachine(profile, run.Metrics, new Random(HashCode.Combine(run.Options.Seed, k, "burst")));
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. machines];
    }

    private static async Task<WebhookFigures> BurstAsync(RunContext run, List<VirtualMachine> machines, WebhookFigures figures, CancellationToken cancellationToken)
    {
        var (simulator, records) = (run.Simulator, run.Records);
        run.Log($"Webhook burst: {run.Options.BurstSales} sales approved at once ...");
        var burst = new List<(VirtualMachine Machine, SaleRecord Record)>();
        for (var k = 0; k < run.Options.BurstSales; k++)
        {
            var machine = machines[k];
            var record = machine.NewRecord("b0001", new Scenario(CustomerAction.Approve, MachineAction.Deliver, false), "burst");
            burst.Add((machine, record));
            records.Add(record);
        }

        // Creating a few hundred sales on a busy machine takes longer than the short payment expiry of the drive: the
        // burst's payments get the default 10 minutes (the simulator reads its options at each create).
        var expiry = simulator.Options.PaymentExpirySeconds;
        simulator.Options.PaymentExpirySeconds = 600;
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(burst.Select(async b =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    await b.Machine.CreateAsync(b.Record, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        simulator.Options.PaymentExpirySeconds = expiry;
        var created = burst.Where(b => b.Record.CreateState == "Created" && b.Record.Reference is not null).ToList();
        var started = DateTimeOffset.UtcNow;
        foreach (var (_, record) in created)
        {
            var refused = simulator.Approve(record.Reference!);
            record.ApproveOutcome = refused is null ? "approve: 200" : $"approve refused: {refused}";
        }

        var approved = created.Where(b => b.Record.ApproveOutcome == "approve: 200").Select(b => b.Record.Reference!).ToHashSet(StringComparer.Ordinal);
        List<WebhookDeliveryView> authorized = [];
        await Wait.UntilAsync(() =>
        {
            authorized = simulator.WebhookDeliveries.Snapshot()
                .Where(d => d.EventType == AuthorizedEvent && !d.Duplicate && approved.Contains(d.Reference)).ToList();
            return Task.FromResult(authorized.Count >= approved.Count && authorized.All(d => d.Status != DeliveryStatus.Pending));
        }, TimeSpan.FromSeconds(120), cancellationToken);

        var acknowledged = authorized.Where(d => d.Status == DeliveryStatus.Delivered).ToList();
        var lastAck = acknowledged.Count == 0 ? started
            : acknowledged.Max(d => d.Attempts[^1].At + TimeSpan.FromMilliseconds(d.Attempts[^1].DurationMilliseconds));
        var seconds = Math.Max(0.001, (lastAck - started).TotalSeconds);
        figures.BurstCount = acknowledged.Count;
        figures.BurstSeconds = seconds;
        figures.BurstHandledPerSecond = acknowledged.Count / seconds;
        figures.BurstAttemptDuration = LatencySummary.Of([.. acknowledged.Select(d => d.Attempts[^1].DurationMilliseconds).Order()]);

        // The machines then sell what was approved: see the authorization, dispense, report.
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(created.Where(b => approved.Contains(b.Record.Reference!)).Select(async b =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    b.Record.SawAuthorization = true;
                    await b.Machine.ActAsync(b.Record, MachineAction.Deliver, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        return figures;
    }
}
