using System.Diagnostics;
using System.Globalization;
using Vending.Stack.Clients;

namespace LoadTest.Phases;

/// <summary>
/// The storage cost of a happy-path sale, counted by the storage proxy on sales made one at a time (needs the proxy
/// and <c>--calibration</c> above 0; otherwise the report says why it was not measured).
/// </summary>
internal static class CalibrationPhase
{
    private const string TimerSetting = "FunctionsHost:TimerIntervalSeconds";

    /// <summary>Whether this run calibrates: it then starts with the timers idle (see <see cref="SetupPhase"/>).</summary>
    public static bool Wanted(LoadOptions options) => options.CountStorage && options.CalibrationSales > 0;

    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (run.Proxy is { } proxy && run.Options.CalibrationSales > 0)
        {
            run.Report.Storage = await CalibrateStorageAsync(run, proxy, cancellationToken);
            return;
        }

        run.Report.Storage = new StorageFigures
        {
            Why = run.Proxy is null
                ? "--no-storage-count; the proxy between the runner and Azurite counts requests, or a counter hook in the runner would"
                : "no calibration sales (--calibration 0)",
        };
    }

    /// <summary>
    /// Storage requests of a happy-path sale, in two parts. The request path: sales one at a time on a runner whose timers
    /// are idle, each counted from its create until its row says Captured, minus the idle rate (trigger polls of empty
    /// queues). The close: the runner is restarted with its reconciler on, whose passes look at those (now finished)
    /// sales and drop them from the open-sales list; counted until the list is empty, minus that runner's idle rate.
    /// </summary>
    private static async Task<StorageFigures> CalibrateStorageAsync(RunContext run, StorageProxy proxy, CancellationToken cancellationToken)
    {
        var (stack, tables, records) = (run.Stack, run.Tables, run.Records);
        run.Log($"Counting storage requests of {run.Options.CalibrationSales} happy-path sales ...");
        var profile = await run.ProvisionOneAsync("lt-calibration", run.Merchants[0].Id, run.Merchants[0].Currency, false, cancellationToken);
        var machine = new VirtualMachine(profile, new MachineApiClient(run.Http, new ProvisionedMachine(profile.MachineId, profile.ApiKey)),
            run.SimulatorHttp, run.Simulator.BaseUrl, run.Options, new DriveMetrics(), new Random(run.Options.Seed))
        {
            CustomerDelay = TimeSpan.FromMilliseconds(500),
        };

        // One sale first, not counted: the tables and queue each process creates once (CreateIfNotExists) and the cold
        // caches belong to the process, not to the sales measured after it.
        var warmUp = machine.NewRecord("c0000", new Scenario(CustomerAction.Approve, MachineAction.Deliver, false), "calibration");
        records.Add(warmUp);
        await machine.SellAsync(warmUp, cancellationToken);
        if (warmUp.Reference is { } warmReference)
        {
            await Wait.UntilAsync(async () => (await SalesTable.ReadSaleAsync(tables, warmReference, cancellationToken)) is { State: "Captured", PendingOperations: 0 }, TimeSpan.FromSeconds(30), cancellationToken);
        }

        var idle = await MeasureIdleAsync(proxy, cancellationToken);
        var path = new Dictionary<string, double>(StringComparer.Ordinal);
        double pathTotal = 0, pathWithoutEmptyPolls = 0;
        var references = new List<string>();
        for (var n = 1; n <= run.Options.CalibrationSales; n++)
        {
            var record = machine.NewRecord($"c{n:D4}", new Scenario(CustomerAction.Approve, MachineAction.Deliver, false), "calibration");
            records.Add(record);
            var before = proxy.Snapshot();
            var clock = Stopwatch.StartNew();
            await machine.SellAsync(record, cancellationToken);
            if (record.Reference is null || !record.VendAccepted
                || !await Wait.UntilAsync(async () => (await SalesTable.ReadSaleAsync(tables, record.Reference, cancellationToken)) is { State: "Captured", PendingOperations: 0 }, TimeSpan.FromSeconds(30), cancellationToken))
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
        // The warm-up sale is closed in the same window as the counted ones: it is counted there, and divides too.
        var closing = warmUp.Reference is { } warmClose && warmUp.VendAccepted ? [.. references, warmClose] : references;
        run.Log("Restarting the runner with its reconciler on; counting the close of the calibration sales ...");
        await stack.StopInstancesAsync();
        stack.SetAppSetting(TimerSetting, run.Options.ReconcilerIntervalSeconds.ToString(CultureInfo.InvariantCulture));
        await stack.StartInstancesAsync(cancellationToken);
        var closeStart = proxy.Snapshot();
        var closeClock = Stopwatch.StartNew();
        var closed = await Wait.UntilAsync(async () =>
        {
            foreach (var reference in closing)
            {
                if (await SalesTable.IsOpenAsync(tables, reference, cancellationToken))
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(60), cancellationToken, TimeSpan.FromMilliseconds(250));
        var close = proxy.Snapshot().Minus(closeStart);
        var closeSeconds = closeClock.Elapsed.TotalSeconds;
        var idleWithTimers = await MeasureIdleAsync(proxy, cancellationToken);
        var closeByKind = new Dictionary<string, double>(StringComparer.Ordinal);
        Accumulate(closeByKind, close, idleWithTimers, closeSeconds);
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
            ClosePerSale = closeTotal / closing.Count,
            ClosePerSaleByKind = PerSale(closeByKind, closing.Count),
            PerHappySale = (pathTotal / counted) + (closeTotal / closing.Count),
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
}
