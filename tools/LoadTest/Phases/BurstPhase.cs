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
        await MeasureTrivialCeilingAsync(run, run.Options.BurstSales, cancellationToken);
    }

    /// <summary>
    /// The same number of requests at once as the burst's webhooks, to a function that touches neither storage nor
    /// Vipps (<c>GET /api/health</c>), each on its own connection as the simulator's deliveries are: what the local
    /// host and worker can answer per second on this machine at all, so the burst's rate can be read against it.
    /// Three rounds after a warm-up round; the best round counts (the machine is shared).
    /// </summary>
    private static async Task MeasureTrivialCeilingAsync(RunContext run, int count, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = run.Stack.AppUrl,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var best = 0.0;
        var bestLatency = LatencySummary.Of([]);
        for (var round = 0; round < 4; round++)
        {
            var latency = new LatencyRecorder();
            var ok = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
            {
                var one = System.Diagnostics.Stopwatch.StartNew();
                using var response = await http.GetAsync(new Uri("api/health", UriKind.Relative), cancellationToken);
                latency.Add(one.Elapsed);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref ok);
                }
            }));
            var perSecond = ok / Math.Max(0.001, clock.Elapsed.TotalSeconds);
            if (round > 0 && perSecond > best)
            {
                (best, bestLatency) = (perSecond, latency.Summarize());
            }
        }

        run.Report.Diagnostics.HealthBurstCount = count;
        run.Report.Diagnostics.HealthBurstPerSecond = best;
        run.Report.Diagnostics.HealthBurstRequest = bestLatency;
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
        await using var cpu = CpuSampler.Start();
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
        run.Report.Diagnostics.BurstCpu = await cpu.StopAsync();

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
