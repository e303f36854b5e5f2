using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Stack;
using Vending.Stack.Clients;
using Vending.Stack.Instances;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Webhooks;

namespace LoadTest;

/// <summary>
/// The load and chaos harness as a library: the command line and the xunit test both call <see cref="RunAsync"/>.
/// Starts Azurite, a counting storage proxy, the Vipps simulator (in process) and the local runner (a child process it
/// can kill), provisions machines over the operator API, measures the raw Azurite insert rate and the storage cost of a
/// happy-path sale, drives the machines (with faults and a runner crash when asked), a webhook burst, then waits for
/// every sale to settle and checks the money invariants against Vipps' ledger and our tables.
/// </summary>
public sealed class LoadHarness
{
    private const string AuthorizedEvent = "epayments.payment.authorized.v1";

    /// <summary>The backend's answer to a vend report after the deadline released the reservation.</summary>
    public const string VendReportTooLate = "vend_report_too_late";
    private const string TimerSetting = "LocalRunner:TimerIntervalSeconds";
    private readonly LoadOptions _options;
    private readonly Action<string> _log;
    private (string Id, string Currency)[] _merchants = [];
    private OperatorApiClient? _operator;

    public LoadHarness(LoadOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = options.Log ?? (_ => { });
    }

    public static Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken = default) =>
        new LoadHarness(options).RunAsync(cancellationToken);

    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var report = new LoadReport
        {
            Run = new RunInfo
            {
                Machines = _options.Machines,
                SalesPerMachine = _options.SalesPerMachine,
                Faults = _options.Faults,
                Seed = _options.Seed,
                ReconcilerIntervalSeconds = _options.ReconcilerIntervalSeconds,
                VendReportDeadlineSeconds = _options.VendReportDeadlineSeconds,
                PaymentExpirySeconds = _options.PaymentExpirySeconds,
                StorageProxy = _options.CountStorage,
            },
        };
        var work = Path.Combine(Path.GetTempPath(), "vending-loadtest", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(work);
        report.Run.WorkDirectory = work;

        StorageProxy? proxy = null;
        var calibrate = _options.CountStorage && _options.CalibrationSales > 0;
        var stackOptions = StackOptions.For(StackProfile.Load);
        stackOptions.Instances = _options.Instances;
        stackOptions.WorkDirectory = work;
        stackOptions.Log = _log;
        stackOptions.PaymentExpirySeconds = _options.PaymentExpirySeconds;
        stackOptions.VendReportDeadlineSeconds = _options.VendReportDeadlineSeconds;
        // The storage calibration runs first on an incarnation with its timers idle (see CalibrateStorageAsync).
        stackOptions.TimerIntervalSeconds = calibrate ? 3600 : _options.ReconcilerIntervalSeconds;
        stackOptions.StorageConnection = async azurite =>
        {
            if (!_options.CountStorage)
            {
                return azurite.ConnectionString;
            }

            proxy = await StorageProxy.StartAsync(azurite.TablePort, azurite.QueuePort);
            return proxy.ConnectionString(azurite.BlobPort);
        };
        foreach (var (key, value) in SimulatorSettings())
        {
            stackOptions.SimulatorSettings[key] = value;
        }

        foreach (var (key, value) in AppSettings())
        {
            stackOptions.AppSettings[key] = value;
        }

        VendingStack? stack = null;
        try
        {
            stack = await VendingStack.StartAsync(stackOptions, cancellationToken);
            report.Run.Instances = stack.Instances.Count;
            await RunOnStackAsync(stack, proxy, report, total, cancellationToken);
        }
        finally
        {
            if (stack is not null)
            {
                await stack.DisposeAsync();
            }

            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }
        }

        return report;
    }

    private async Task RunOnStackAsync(VendingStack stack, StorageProxy? proxy, LoadReport report, Stopwatch total, CancellationToken cancellationToken)
    {
        var simulator = stack.Simulator;
        var tables = new TableServiceClient(stack.StorageConnectionString);
        var calibrate = proxy is not null && _options.CalibrationSales > 0;
        _operator = stack.NewOperatorClient();
        _merchants = Merchants(stack.Settings);
        using var http = MachineApiClient.CreateSharedHttpClient(stack.AppUrl);
        using var simulatorHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var metrics = new DriveMetrics();
        var records = new List<SaleRecord>();

        try
        {
            if (_options.BaselineInserts > 0)
            {
                _log("Measuring the raw Azurite single-insert rate ...");
                report.Azurite = await MeasureAzuriteAsync(tables, cancellationToken);
            }

            _log($"Provisioning {_options.Machines} machines ...");
            var profiles = await ProvisionAsync(cancellationToken);
            var machines = profiles.Select((profile, i) => new VirtualMachine(profile,
                new MachineApiClient(http, new ProvisionedMachine(profile.MachineId, profile.ApiKey)), simulatorHttp, simulator.BaseUrl, _options, metrics,
                new Random(HashCode.Combine(_options.Seed, i)))).ToList();

            if (calibrate)
            {
                report.Storage = await CalibrateStorageAsync(proxy!, stack, http, simulatorHttp, simulator.BaseUrl, tables, records, cancellationToken);
            }
            else
            {
                report.Storage = new StorageFigures
                {
                    Why = proxy is null
                        ? "--no-storage-count; the proxy between the runner and Azurite counts requests, or a counter hook in the runner would"
                        : "no calibration sales (--calibration 0)",
                };
            }

            if (_options.Faults)
            {
                simulator.Faults.Add(FaultProfile());
                _log("Faults on: Vipps 5xx/429/423, latency, hangs, lost responses; duplicate, dropped and delayed webhooks; a runner crash mid-run.");
            }

            // ---- drive ----
            var driveStart = DateTimeOffset.UtcNow;
            var driveClock = Stopwatch.StartNew();
            var storageBeforeDrive = proxy?.Snapshot() ?? StorageCounts.Empty;
            using var driveStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var totalSales = _options.Machines * _options.SalesPerMachine;
            var rotation = 0;
            Scenario ScenarioFor(VirtualMachine machine, Random random) => _options.RotateScenarios
                ? Scenario.Rotation[Interlocked.Increment(ref rotation) % Scenario.Rotation.Count]
                : Scenario.Draw(random, machine.Profile.CaptureAtAuthorization);

            _log($"Driving {_options.Machines} machines x {_options.SalesPerMachine} sales ...");
            var stopStarting = DateTimeOffset.UtcNow + _options.DriveTimeout;
            var driving = machines.Select((machine, i) =>
            {
                var scenarioRandom = new Random(HashCode.Combine(_options.Seed, i, "scenario"));
                return Task.Run(() => machine.RunAsync(_options.SalesPerMachine, _ => ScenarioFor(machine, scenarioRandom), records, stopStarting, driveStop.Token), driveStop.Token);
            }).ToList();
            var progress = ProgressAsync(metrics, totalSales, driveStop.Token);
            var restart = _options.Faults ? RestartMidRunAsync(stack, metrics, totalSales, Task.WhenAll(driving), report, cancellationToken) : Task.CompletedTask;
            var outage = _options.OutageSeconds > 0 ? OutageMidRunAsync(simulator, metrics, totalSales, Task.WhenAll(driving), report, cancellationToken) : Task.CompletedTask;
            await Task.WhenAll(driving);
            await restart;
            await outage;
            await driveStop.CancelAsync();
            await progress;
            _options.Progress?.Invoke(metrics.Finished, totalSales);
            report.Run.DriveSeconds = driveClock.Elapsed.TotalSeconds;

            // ---- converge ----
            _log("Waiting for every sale to settle ...");
            var convergeClock = Stopwatch.StartNew();
            await WaitUntilSettledAsync(tables, records, _options.ConvergeTimeout, cancellationToken);
            report.Run.ConvergeSeconds = convergeClock.Elapsed.TotalSeconds;
            var driveEnd = DateTimeOffset.UtcNow;
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

            // ---- webhook burst (faults off, so it measures handling, not retries) ----
            if (_options.BurstSales > 0)
            {
                simulator.Faults.Reset();
                var burstMachines = await ProvisionBurstMachinesAsync(http, simulatorHttp, simulator.BaseUrl, metrics, cancellationToken);
                report.Webhooks = await BurstAsync(burstMachines, simulator, records, report.Webhooks, cancellationToken);
                await WaitUntilSettledAsync(tables, records, _options.ConvergeTimeout, cancellationToken);
            }

            report.ApprovalToMachine = metrics.ApprovalToMachine.Summarize();
            if (stack.Front is { } front)
            {
                (report.ApprovalSameInstance, report.ApprovalCrossInstance) = SplitByInstance(records, front);
            }
            report.CreatePayment = metrics.CreatePayment.Summarize();
        }
        finally
        {
            var processes = stack.Instances.OfType<ChildProcessFunctionApp>().ToList();
            report.Runner.PeakMemoryBytes = processes.Max(p => p.PeakMemoryBytes);
            report.Runner.PeakRssBytes = processes.Max(p => p.PeakRssBytes);
        }

        // ---- invariants ----
        _log("Checking the invariants against Vipps' ledger and the Sales table ...");
        var observation = await ObserveAsync(tables, simulator, records, cancellationToken);
        report.Violations.AddRange(Invariants.Check(observation));
        report.Vipps.InFlightConflicts = simulator.Pipeline.InFlightConflicts;
        await AddHistoriesAsync(report, tables, observation, cancellationToken);
        report.ReleaseAfterDeadline = await MeasureReleaseLagAsync(tables, records, cancellationToken);
        Summarize(report, records, observation);
        AddTargets(report);
        report.Records = records;
        report.Run.LoadAverageAtEnd = RunInfo.LoadAverage();
        report.Run.TotalSeconds = total.Elapsed.TotalSeconds;
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

    private static (string Id, string Currency)[] Merchants(IReadOnlyDictionary<string, string?> settings) =>
        settings.Where(kv => kv.Key.StartsWith("Vipps:Merchants:", StringComparison.OrdinalIgnoreCase) && kv.Key.EndsWith(":Currencies:0", StringComparison.OrdinalIgnoreCase))
            .Select(kv => (kv.Key.Split(':')[2], kv.Value!))
            .OrderBy(m => m.Item2 == "NOK" ? 0 : 1)
            .ToArray();

    // ---------------------------------------------------------------- setup

    private Dictionary<string, string?> SimulatorSettings() => new()
    {
        ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
        ["Simulator:PaymentExpirySeconds"] = _options.PaymentExpirySeconds.ToString(CultureInfo.InvariantCulture),
        ["Simulator:ExpirySweepIntervalMilliseconds"] = "250",
        // Retries and re-polls of a whole run must never hit Vipps' per-payment limits (a load artefact, not a product path).
        ["Simulator:RateLimits:AdjustmentsPerMinute"] = "1000",
        ["Simulator:RateLimits:QueriesPerMinute"] = "100000",
        // Compressed: a webhook that failed while the runner was down comes again within a second or two.
        ["Simulator:Webhooks:RetryDelaysSeconds"] = "0.2,0.5,1,1,2",
        ["Simulator:Webhooks:MaxAttempts"] = "60",
        ["Simulator:Webhooks:TimeoutSeconds"] = "10",
    };

    /// <summary>The app settings of a load run, over the sample's (the stack wires storage, Vipps, URLs and keys).</summary>
    private static Dictionary<string, string?> AppSettings() => new(StringComparer.OrdinalIgnoreCase)
    {
        // A hung Vipps call is given up after 3 s and retried with the same idempotency key.
        ["Vipps:AttemptTimeoutSeconds"] = "3",
        ["Vipps:TotalTimeoutSeconds"] = "20",
        ["Vending:ExpiryGraceSeconds"] = "2",
        ["Vending:CommandStaleSeconds"] = "10",
        ["Reconciler:Schedule"] = "*/10 * * * * *",
        ["Events:TopicName"] = "payment-events",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    };

    private FaultSettings FaultProfile() => new()
    {
        Seed = _options.Seed,
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
            new WebhookFaultRule { DuplicateRate = 0.1, DropRate = _options.WebhookDropRate, DelayRate = 0.1, DelayMilliseconds = 1500 },
        ],
    };

    private async Task<List<MachineProfile>> ProvisionAsync(CancellationToken cancellationToken)
    {
        var profiles = new MachineProfile[_options.Machines];
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, _options.Machines).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                // Every tenth machine captures at authorization; half of the rest sell through MobilePay (DKK).
                // (A small run still gets one such machine, its last.)
                var atAuthorization = i % 10 == 9 || (_options.Machines is >= 3 and < 10 && i == _options.Machines - 1);
                var (merchant, currency) = _merchants[i % 2];
                profiles[i] = await ProvisionOneAsync($"lt-m{i:D3}", merchant, currency, atAuthorization, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. profiles];
    }

    private async Task<MachineProfile> ProvisionOneAsync(string machineId, string merchant, string currency, bool atAuthorization, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var machine = await _operator!.ProvisionMachineAsync(new MachineRegistration(
            machineId, $"Load machine {machineId}", "Load test", merchant, currency, atAuthorization ? "OnAuthorization" : "OnDelivery", "url"), timeout.Token);
        return new MachineProfile(machineId, machine.ApiKey, merchant, currency, atAuthorization);
    }

    // ---------------------------------------------------------------- baseline

    private async Task<AzuriteBaseline> MeasureAzuriteAsync(TableServiceClient service, CancellationToken cancellationToken)
    {
        var table = service.GetTableClient("LoadBaseline");
        await table.CreateIfNotExistsAsync(cancellationToken);
        await table.AddEntityAsync(new TableEntity("warm", "up"), cancellationToken);
        const int concurrency = 8;

        async Task<(int Count, double Seconds)> LoopAsync(int loops, string prefix)
        {
            var count = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, loops).Select(async loop =>
            {
                var limit = _options.BaselineInserts / loops;
                for (var i = 0; i < limit && clock.Elapsed < _options.BaselineDuration; i++)
                {
                    await table.AddEntityAsync(new TableEntity($"{prefix}-{loop}", i.ToString("D6", CultureInfo.InvariantCulture))
                    {
                        ["State"] = "Created",
                        ["Amount"] = 7900L,
                        ["At"] = DateTimeOffset.UtcNow,
                    }, cancellationToken);
                    Interlocked.Increment(ref count);
                }
            }));
            return (count, clock.Elapsed.TotalSeconds);
        }

        var sequential = await LoopAsync(1, "seq");
        var concurrent = await LoopAsync(concurrency, "par");
        return new AzuriteBaseline
        {
            SequentialInserts = sequential.Count,
            SequentialPerSecond = sequential.Count / sequential.Seconds,
            Concurrency = concurrency,
            ConcurrentInserts = concurrent.Count,
            ConcurrentPerSecond = concurrent.Count / concurrent.Seconds,
        };
    }

    // ---------------------------------------------------------------- storage calibration

    /// <summary>
    /// Storage requests of a happy-path sale, in two parts. The request path: sales one at a time on a runner whose timers
    /// are idle, each counted from its create until its row says Captured, minus the idle rate (trigger polls of empty
    /// queues). The close: the runner is restarted with its reconciler on, whose passes look at those (now finished)
    /// sales and drop them from the open-sales list; counted until the list is empty, minus that runner's idle rate.
    /// </summary>
    private async Task<StorageFigures> CalibrateStorageAsync(StorageProxy proxy, VendingStack stack,
        HttpClient http, HttpClient simulatorHttp, string simulatorUrl, TableServiceClient tables,
        List<SaleRecord> records, CancellationToken cancellationToken)
    {
        _log($"Counting storage requests of {_options.CalibrationSales} happy-path sales ...");
        var profile = await ProvisionOneAsync("lt-calibration", _merchants[0].Id, _merchants[0].Currency, false, cancellationToken);
        var machine = new VirtualMachine(profile, new MachineApiClient(http, new ProvisionedMachine(profile.MachineId, profile.ApiKey)),
            simulatorHttp, simulatorUrl, _options, new DriveMetrics(), new Random(_options.Seed))
        {
            CustomerDelay = TimeSpan.FromMilliseconds(500),
        };

        var idle = await MeasureIdleAsync(proxy, cancellationToken);
        var path = new Dictionary<string, double>(StringComparer.Ordinal);
        double pathTotal = 0, pathWithoutEmptyPolls = 0;
        var references = new List<string>();
        for (var n = 1; n <= _options.CalibrationSales; n++)
        {
            var record = machine.NewRecord($"c{n:D4}", new Scenario(CustomerAction.Approve, MachineAction.Deliver, false), "calibration");
            records.Add(record);
            var before = proxy.Snapshot();
            var clock = Stopwatch.StartNew();
            await machine.SellAsync(record, cancellationToken);
            if (record.Reference is null || !record.VendAccepted
                || !await WaitForAsync(async () => (await ReadSaleAsync(tables, record.Reference, cancellationToken)) is { State: "Captured", PendingOperations: 0 }, TimeSpan.FromSeconds(30), cancellationToken))
            {
                continue;
            }

            var delta = proxy.Snapshot().Minus(before);
            var seconds = clock.Elapsed.TotalSeconds;
            references.Add(record.Reference);
            Accumulate(path, delta, idle, seconds);
            pathTotal += delta.Total - (idle.PerSecond * seconds);
            pathWithoutEmptyPolls += delta.ByKind.Where(kv => !kv.Key.EndsWith("-empty", StringComparison.Ordinal)).Sum(kv => kv.Value)
                - (idle.Counts.ByKind.Where(kv => !kv.Key.EndsWith("-empty", StringComparison.Ordinal)).Sum(kv => kv.Value) / idle.Seconds * seconds);
        }

        if (references.Count == 0)
        {
            return new StorageFigures { Why = "no calibration sale completed" };
        }

        var counted = references.Count;
        _log("Restarting the runner with its reconciler on; counting the close of the calibration sales ...");
        await stack.StopInstancesAsync();
        stack.SetAppSetting(TimerSetting, _options.ReconcilerIntervalSeconds.ToString(CultureInfo.InvariantCulture));
        await stack.StartInstancesAsync(cancellationToken);
        var closeStart = proxy.Snapshot();
        var closeClock = Stopwatch.StartNew();
        var closed = await WaitForAsync(async () =>
        {
            foreach (var reference in references)
            {
                if (await IsOpenAsync(tables, reference, cancellationToken))
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(60), cancellationToken, TimeSpan.FromMilliseconds(250));
        var close = proxy.Snapshot().Minus(closeStart);
        var closeSeconds = closeClock.Elapsed.TotalSeconds;
        var idleWithTimers = await MeasureIdleAsync(proxy, cancellationToken);
        var closing = new Dictionary<string, double>(StringComparer.Ordinal);
        Accumulate(closing, close, idleWithTimers, closeSeconds);
        var closeTotal = close.Total - (idleWithTimers.PerSecond * closeSeconds);

        return new StorageFigures
        {
            Measured = true,
            CalibrationSales = counted,
            IdlePerSecond = idle.PerSecond,
            IdlePerSecondWithTimers = idleWithTimers.PerSecond,
            PerHappySaleUntilCaptured = pathTotal / counted,
            PerHappySaleExcludingEmptyPolls = pathWithoutEmptyPolls / counted,
            PerHappySaleByKind = PerSale(path, counted),
            CloseMeasured = closed,
            ClosePerSale = closeTotal / counted,
            ClosePerSaleByKind = PerSale(closing, counted),
            PerHappySale = (pathTotal + closeTotal) / counted,
        };
    }

    private sealed record IdleRate(StorageCounts Counts, double Seconds)
    {
        public double PerSecond => Counts.Total / Seconds;
    }

    /// <summary>What the runner does with nothing to do: trigger polls of empty queues, timer passes over an empty list.</summary>
    private static async Task<IdleRate> MeasureIdleAsync(StorageProxy proxy, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var start = proxy.Snapshot();
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(8), cancellationToken);
        return new IdleRate(proxy.Snapshot().Minus(start), clock.Elapsed.TotalSeconds);
    }

    private static void Accumulate(Dictionary<string, double> into, StorageCounts delta, IdleRate idle, double seconds)
    {
        foreach (var kind in delta.ByKind.Keys.Union(idle.Counts.ByKind.Keys))
        {
            into[kind] = into.GetValueOrDefault(kind) + delta.ByKind.GetValueOrDefault(kind) - (idle.Counts.ByKind.GetValueOrDefault(kind) / idle.Seconds * seconds);
        }
    }

    private static SortedDictionary<string, double> PerSale(Dictionary<string, double> totals, int sales) => new(
        totals.Where(kv => Math.Abs(kv.Value / sales) >= 0.05).ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value / sales, 2)), StringComparer.Ordinal);

    // ---------------------------------------------------------------- drive helpers

    private async Task RestartMidRunAsync(VendingStack stack, DriveMetrics metrics, int totalSales, Task driving, LoadReport report, CancellationToken cancellationToken)
    {
        var threshold = (int)Math.Ceiling(totalSales * _options.RestartAtFraction);
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
        var victim = stack.Instances[0];
        _log($"Killing instance {victim.Id} (SIGKILL) after {metrics.Finished} of {totalSales} sales ...");
        await victim.StopAsync();
        await Task.Delay(_options.RestartDowntime, cancellationToken);
        await victim.StartAsync(cancellationToken);
        report.Runner.Restarts++;
        _log("Runner restarted.");
    }

    /// <summary>Every Vipps command (capture, cancel, refund) answers 503 for <see cref="LoadOptions.OutageSeconds"/>, from the configured share of the drive.</summary>
    private async Task OutageMidRunAsync(RunningSimulator simulator, DriveMetrics metrics, int totalSales, Task driving, LoadReport report, CancellationToken cancellationToken)
    {
        var threshold = (int)Math.Ceiling(totalSales * _options.OutageAtFraction);
        while (metrics.Finished < threshold && !driving.IsCompleted)
        {
            await Task.Delay(100, cancellationToken);
        }

        if (driving.IsCompleted)
        {
            report.Notes.Add("the drive finished before the outage point; no Vipps outage happened");
            return;
        }

        simulator.Faults.Add(OutageRules(_options.OutageSeconds));
        report.Runner.OutageSeconds = _options.OutageSeconds;
        report.Runner.OutageStartedAfterSales = metrics.Finished;
        _log($"Vipps outage: capture, cancel and refund answer 503 for {_options.OutageSeconds} s (after {metrics.Finished} of {totalSales} sales) ...");
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

    private async Task ProgressAsync(DriveMetrics metrics, int total, CancellationToken cancellationToken)
    {
        try
        {
            // A live progress bar (the command line) is fed twice a second; without one, a log line every 10 s.
            var ticks = 0;
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                _options.Progress?.Invoke(metrics.Finished, total);
                if (_options.Progress is null && ++ticks % 20 == 0)
                {
                    _log($"   {metrics.Finished}/{total} sales done");
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

    // ---------------------------------------------------------------- webhook burst

    /// <summary>A machine has at most one open sale, so the burst has a machine per sale.</summary>
    private async Task<List<VirtualMachine>> ProvisionBurstMachinesAsync(HttpClient http,
        HttpClient simulatorHttp, string simulatorUrl, DriveMetrics metrics, CancellationToken cancellationToken)
    {
        _log($"Provisioning {_options.BurstSales} burst machines ...");
        var machines = new VirtualMachine[_options.BurstSales];
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, _options.BurstSales).Select(async k =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var (merchant, currency) = _merchants[k % 2];
                var profile = await ProvisionOneAsync($"lt-b{k:D3}", merchant, currency, false, cancellationToken);
                machines[k] = new VirtualMachine(profile, new MachineApiClient(http, new ProvisionedMachine(profile.MachineId, profile.ApiKey)),
                    simulatorHttp, simulatorUrl, _options, metrics, new Random(HashCode.Combine(_options.Seed, k, "burst")));
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. machines];
    }

    private async Task<WebhookFigures> BurstAsync(List<VirtualMachine> machines, RunningSimulator simulator, List<SaleRecord> records, WebhookFigures figures, CancellationToken cancellationToken)
    {
        _log($"Webhook burst: {_options.BurstSales} sales approved at once ...");
        var burst = new List<(VirtualMachine Machine, SaleRecord Record)>();
        for (var k = 0; k < _options.BurstSales; k++)
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
        await WaitForAsync(() =>
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

    // ---------------------------------------------------------------- observation

    private async Task WaitUntilSettledAsync(TableServiceClient tables, List<SaleRecord> records, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var settled = await WaitForAsync(async () =>
        {
            var rows = await ReadSalesAsync(tables, cancellationToken);
            var byKey = rows.ToDictionary(r => (r.MachineId, r.MachineSaleId));
            return records.All(r => byKey.TryGetValue((r.MachineId, r.MachineSaleId), out var row)
                ? Invariants.FinalStates.Contains(row.State) && row.PendingOperations == 0
                : r.CreateAbandoned || r.Reference is null);
        }, timeout, cancellationToken, TimeSpan.FromSeconds(1));
        if (!settled)
        {
            _log($"Not every sale settled within {timeout.TotalSeconds:F0} s (the invariants will name them).");
        }
    }

    private static async Task<Observation> ObserveAsync(TableServiceClient tables, RunningSimulator simulator, List<SaleRecord> records, CancellationToken cancellationToken)
    {
        var stored = await ReadSalesAsync(tables, cancellationToken);
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
        foreach (var late in records.Where(r => r.VendRefusalCode == VendReportTooLate && r.RefusedDeliveredAmount > 0))
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

    private static void AddTargets(LoadReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var latency = report.ApprovalToMachine;
        report.Targets.Add(new TargetResult("approval -> machine p99", "<= 250 ms",
            latency.Count == 0 ? "no samples" : $"{latency.P99.ToString("F0", c)} ms with {report.Run.Machines} machines",
            latency.Count == 0 ? null : latency.P99 <= 250));
        report.Targets.Add(new TargetResult("storage round trips per happy-path sale", "<= 6",
            report.Storage.Measured ? $"{report.Storage.PerHappySaleUntilCaptured.ToString("F1", c)} create to Captured ({report.Storage.PerHappySale.ToString("F1", c)} with the reconciler's close)" : $"not measured: {report.Storage.Why}",
            report.Storage.Measured ? report.Storage.PerHappySaleUntilCaptured <= 6 : null));
        var baseline = Math.Max(report.Azurite.SequentialPerSecond, report.Azurite.ConcurrentPerSecond);
        report.Targets.Add(new TargetResult("webhook handling vs raw Azurite insert rate", ">= 0.5 x",
            report.Webhooks.BurstCount == 0 || baseline <= 0 ? "not measured"
                : $"{report.Webhooks.BurstHandledPerSecond.ToString("F0", c)}/s vs {baseline.ToString("F0", c)}/s = {(report.Webhooks.BurstHandledPerSecond / baseline).ToString("F2", c)} x",
            report.Webhooks.BurstCount == 0 || baseline <= 0 ? null : report.Webhooks.BurstHandledPerSecond >= 0.5 * baseline));
        var memory = report.Runner.PeakMemoryBytes;
        report.Targets.Add(new TargetResult("runner peak memory (VmHWM)", "<= 250 MB",
            memory is { } m ? $"{m / 1024.0 / 1024.0:F0} MB" : "not measured",
            memory is { } bytes ? bytes <= 250L * 1024 * 1024 : null));
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
            await foreach (var history in ReadHistoryAsync(tables, reference, cancellationToken))
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
    private async Task<LatencySummary> MeasureReleaseLagAsync(TableServiceClient tables, List<SaleRecord> records, CancellationToken cancellationToken)
    {
        var lags = new List<double>();
        foreach (var record in records.Where(r => r is { SawAuthorization: true, Reference: not null, CaptureAtAuthorization: false } && r.Scenario.Machine == MachineAction.Crash))
        {
            DateTimeOffset? authorized = null, released = null;
            await foreach (var history in ReadHistoryAsync(tables, record.Reference!, cancellationToken))
            {
                switch (history.Type)
                {
                    case "vipps_authorized": authorized ??= history.Time; break;
                    case "vend_deadline_passed": released ??= history.Time; break;
                }
            }

            if (authorized is { } a && released is { } r)
            {
                lags.Add((r - a).TotalMilliseconds - (_options.VendReportDeadlineSeconds * 1000.0));
            }
        }

        return LatencySummary.Of([.. lags.Order()]);
    }

    // ---------------------------------------------------------------- table reads (straight to Azurite, not counted)

    internal static async Task<List<StoredSale>> ReadSalesAsync(TableServiceClient tables, CancellationToken cancellationToken)
    {
        var result = new List<StoredSale>();
        try
        {
            await foreach (var entity in tables.GetTableClient(TableNames.Sales).QueryAsync<TableEntity>($"RowKey eq '{SaleEntities.StateRowKey}'", cancellationToken: cancellationToken))
            {
                result.Add(ToStoredSale(entity));
            }
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
        }

        return result;
    }

    private static async Task<StoredSale?> ReadSaleAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken)
    {
        var response = await tables.GetTableClient(TableNames.Sales).GetEntityIfExistsAsync<TableEntity>(reference, SaleEntities.StateRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? ToStoredSale(response.Value!) : null;
    }

    private static async Task<bool> IsOpenAsync(TableServiceClient tables, string reference, CancellationToken cancellationToken)
    {
        var response = await tables.GetTableClient(TableNames.OpenSales).GetEntityIfExistsAsync<TableEntity>(Vending.Core.Events.OutboxRows.OpenSalesPartition, reference, cancellationToken: cancellationToken);
        return response.HasValue;
    }

    /// <summary>A sale's history rows, oldest first, through the core's own mapping.</summary>
    private static async IAsyncEnumerable<SaleHistoryEntry> ReadHistoryAsync(
        TableServiceClient tables, string reference, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {reference} and RowKey ge {SaleEntities.HistoryPrefix} and RowKey lt {TableKeys.RangeEnd(SaleEntities.HistoryPrefix)}");
        await foreach (var row in tables.GetTableClient(TableNames.Sales).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return SaleEntities.HistoryFromEntity(row);
        }
    }

    /// <summary>Our state row, read through the core's own mapping (<c>SaleEntities.FromEntity</c>), not column names.</summary>
    internal static StoredSale ToStoredSale(TableEntity entity)
    {
        var sale = SaleEntities.FromEntity(entity);
        return new StoredSale(
            sale.Reference,
            sale.MachineId,
            sale.MachineSaleId,
            sale.State.ToString(),
            sale.CaptureMode.ToString(),
            sale.Amount,
            sale.AuthorizedAmount,
            sale.CapturedAmount,
            sale.CancelledAmount,
            sale.RefundedAmount,
            sale.DeliveredAmount,
            sale.Operations.Count(operation => operation.Status == OperationStatus.Pending),
            sale.Vend is not null);
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }
}
