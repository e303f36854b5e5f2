using System.Diagnostics;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Webhooks;

namespace LoadTest.Phases;

/// <summary>
/// The drive: every machine sells its sales at once (with Vipps faults, dropped webhooks, a killed instance and a
/// command outage when asked), then waits for every sale to settle; records the drive's storage requests and webhooks.
/// </summary>
internal static class DrivePhase
{
    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var (simulator, proxy, report, metrics, records, machines) = (run.Simulator, run.Proxy, run.Report, run.Metrics, run.Records, run.Machines);
        if (run.Options.Faults)
        {
            simulator.Faults.Add(FaultProfile(run.Options));
            run.Log("Faults on: Vipps 5xx/429/423, latency, hangs, lost responses; duplicate, dropped and delayed webhooks; a runner crash mid-run.");
        }

        var driveStart = DateTimeOffset.UtcNow;
        var driveClock = Stopwatch.StartNew();
        var storageBeforeDrive = proxy?.Snapshot() ?? StorageCounts.Empty;
        proxy?.TableLatency.Clear();
        proxy?.QueueLatency.Clear();
        await using var cpu = CpuSampler.Start();
        using var driveStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var totalSales = run.Options.Machines * run.Options.SalesPerMachine;
        var rotation = 0;
        Scenario ScenarioFor(VirtualMachine machine, Random random) => run.Options.RotateScenarios
            ? Scenario.Rotation[Interlocked.Increment(ref rotation) % Scenario.Rotation.Count]
            : Scenario.Draw(random, machine.Profile.CaptureAtAuthorization);

        run.Log($"Driving {run.Options.Machines} machines x {run.Options.SalesPerMachine} sales ...");
        var stopStarting = DateTimeOffset.UtcNow + run.Options.DriveTimeout;
        var driving = machines.Select((machine, i) =>
        {
            var scenarioRandom = new Random(HashCode.Combine(run.Options.Seed, i, "scenario"));
            return Task.Run(() => machine.RunAsync(run.Options.SalesPerMachine, _ => ScenarioFor(machine, scenarioRandom), records, stopStarting, driveStop.Token), driveStop.Token);
        }).ToList();
        var progress = ProgressAsync(run, metrics, totalSales, driveStop.Token);
        var restart = run.Options.Faults ? RestartMidRunAsync(run, metrics, totalSales, Task.WhenAll(driving), report, cancellationToken) : Task.CompletedTask;
        var outage = run.Options.OutageSeconds > 0 ? OutageMidRunAsync(run, metrics, totalSales, Task.WhenAll(driving), report, cancellationToken) : Task.CompletedTask;
        await Task.WhenAll(driving);
        await restart;
        await outage;
        await driveStop.CancelAsync();
        await progress;
        run.Options.Progress?.Invoke(metrics.Finished, totalSales);
        report.Run.DriveSeconds = driveClock.Elapsed.TotalSeconds;

        // The converge is part of the drive: the drive's storage and webhook figures run until every sale settled.
        run.Log("Waiting for every sale to settle ...");
        var convergeClock = Stopwatch.StartNew();
        await run.WaitUntilSettledAsync(run.Options.ConvergeTimeout, cancellationToken);
        report.Run.ConvergeSeconds = convergeClock.Elapsed.TotalSeconds;
        var driveEnd = DateTimeOffset.UtcNow;
        report.Diagnostics.DriveCpu = await cpu.StopAsync();
        report.Diagnostics.DriveTableRequest = proxy?.TableLatency.Summarize();
        report.Diagnostics.DriveQueueRequest = proxy?.QueueLatency.Summarize();
        if (proxy is not null)
        {
            var drive = proxy.Snapshot().Minus(storageBeforeDrive);
            var driveSales = records.Count(r => r.Phase == "drive");
            report.Storage.DriveRequests = drive.Total;
            report.Storage.DriveSales = driveSales;
            report.Storage.DrivePerSale = driveSales == 0 ? 0 : (double)drive.Total / driveSales;
            report.Storage.DriveByKind = new SortedDictionary<string, long>(drive.ByKind.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        }

        FillDriveWebhooks(report, simulator, driveStart, driveEnd);
    }

    private static FaultSettings FaultProfile(LoadOptions options) => new()
    {
        Seed = options.Seed,
        Rules =
        [
            new FaultRule { Endpoint = "create", Kind = FaultKind.Error, Status = 500, Rate = 0.04 },
            new FaultRule { Endpoint = "get", Kind = FaultKind.Error, Status = 429, Rate = 0.04 },
            new FaultRule { Endpoint = "events", Kind = FaultKind.Error, Status = 503, Rate = 0.04 },
            new FaultRule { Endpoint = "capture", Kind = FaultKind.Error, Status = 423, Rate = 0.04 },
            new FaultRule { Endpoint = "cancel", Kind = FaultKind.Error, Status = 500, Rate = 0.04 },
            new FaultRule { Endpoint = "capture", Kind = FaultKind.ResponseLost, Status = 500, Rate = 0.03 },
            new FaultRule { Endpoint = "cancel", Kind = FaultKind.ResponseLost, Status = 502, Rate = 0.03 },
            new FaultRule { Endpoint = "*", Kind = FaultKind.Latency, LatencyMilliseconds = 40, Rate = 0.25 },
            new FaultRule { Endpoint = "capture", Kind = FaultKind.Hang, HangSeconds = 6, Count = 2 },
            new FaultRule { Endpoint = "create", Kind = FaultKind.Hang, HangSeconds = 6, Count = 2 },
            new FaultRule { Endpoint = "get", Kind = FaultKind.Hang, HangSeconds = 6, Count = 1 },
        ],
        Webhooks =
        [
            new WebhookFaultRule { DuplicateRate = 0.1, DropRate = options.WebhookDropRate, DelayRate = 0.1, DelayMilliseconds = 1500 },
        ],
    };

    private static async Task RestartMidRunAsync(RunContext run, DriveMetrics metrics, int totalSales, Task driving, LoadReport report, CancellationToken cancellationToken)
    {
        var threshold = (int)Math.Ceiling(totalSales * run.Options.RestartAtFraction);
        while (metrics.Finished < threshold && !driving.IsCompleted)
        {
            await Task.Delay(100, cancellationToken);
        }

        if (driving.IsCompleted)
        {
            report.Notes.Add("the drive finished before the runner restart point; no restart happened");
            return;
        }

        // One instance dies (with one instance: the app); the others, if any, carry on behind the front.
        var victim = run.Stack.Instances[0];
        run.Log($"Killing instance {victim.Id} (SIGKILL) after {metrics.Finished} of {totalSales} sales ...");
        var killedAt = DateTimeOffset.UtcNow;
        await victim.StopAsync();
        await Task.Delay(run.Options.RestartDowntime, cancellationToken);
        await victim.StartAsync(cancellationToken);
        // From the kill until the new incarnation answers its health check: approvals overlapping it are told apart.
        report.Diagnostics.RestartWindows.Add(new TimeWindow(killedAt, DateTimeOffset.UtcNow));
        report.Runner.Restarts++;
        run.Log("Runner restarted.");
    }

    /// <summary>Every Vipps command (capture, cancel, refund) answers 503 for <see cref="LoadOptions.OutageSeconds"/>, from the configured share of the drive.</summary>
    private static async Task OutageMidRunAsync(RunContext run, DriveMetrics metrics, int totalSales, Task driving, LoadReport report, CancellationToken cancellationToken)
    {
        var threshold = (int)Math.Ceiling(totalSales * run.Options.OutageAtFraction);
        while (metrics.Finished < threshold && !driving.IsCompleted)
        {
            await Task.Delay(100, cancellationToken);
        }

        if (driving.IsCompleted)
        {
            report.Notes.Add("the drive finished before the outage point; no Vipps outage happened");
            return;
        }

        run.Simulator.Faults.Add(OutageRules(run.Options.OutageSeconds));
        report.Runner.OutageSeconds = run.Options.OutageSeconds;
        report.Runner.OutageStartedAfterSales = metrics.Finished;
        run.Log($"Vipps outage: capture, cancel and refund answer 503 for {run.Options.OutageSeconds} s (after {metrics.Finished} of {totalSales} sales) ...");
    }

    /// <summary>The simulator rules of a command outage: each ends by itself after <paramref name="seconds"/>.</summary>
    internal static FaultSettings OutageRules(int seconds) => new()
    {
        Rules =
        {
            new FaultRule { Endpoint = "capture", Kind = FaultKind.Error, Status = 503, ForSeconds = seconds },
            new FaultRule { Endpoint = "cancel", Kind = FaultKind.Error, Status = 503, ForSeconds = seconds },
            new FaultRule { Endpoint = "refund", Kind = FaultKind.Error, Status = 503, ForSeconds = seconds },
        },
    };

    private static async Task ProgressAsync(RunContext run, DriveMetrics metrics, int total, CancellationToken cancellationToken)
    {
        try
        {
            // A live progress bar (the command line) is fed twice a second; without one, a log line every 10 s.
            var ticks = 0;
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                run.Options.Progress?.Invoke(metrics.Finished, total);
                if (run.Options.Progress is null && ++ticks % 20 == 0)
                {
                    run.Log($"   {metrics.Finished}/{total} sales done");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void FillDriveWebhooks(LoadReport report, RunningSimulator simulator, DateTimeOffset from, DateTimeOffset to)
    {
        var deliveries = simulator.WebhookDeliveries.Snapshot();
        var delivered = deliveries.Count(d => d.Status == DeliveryStatus.Delivered && d.Attempts.Count > 0 && d.Attempts[^1].At >= from && d.Attempts[^1].At <= to);
        report.Webhooks.DeliveredDuringDrive = delivered;
        report.Webhooks.Dropped = deliveries.Count(d => d.Status == DeliveryStatus.Dropped);
        report.Webhooks.Duplicates = deliveries.Count(d => d.Duplicate);
        report.Webhooks.FailedAttempts = deliveries.Sum(d => d.Attempts.Count(a => a.StatusCode is not (>= 200 and < 300)));
        report.Webhooks.DeliveredPerSecondDuringDrive = delivered / Math.Max(0.001, (to - from).TotalSeconds);
    }
}
