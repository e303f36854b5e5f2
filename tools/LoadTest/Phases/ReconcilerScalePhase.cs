using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Stack.Clients;
using Vending.Stack.Instances;

namespace LoadTest.Phases;

/// <summary>
/// The reconciler's storage cost per pass at scale (<c>--reconciler-scale MACHINES,OPEN</c>): provisions MACHINES
/// machines over the operator API, measures idle passes with no open sale, creates OPEN sales over the machine API (one
/// per machine, never approved; the simulator's expiry is long), measures the passes right after the creates (each new
/// sale's one first check, <see cref="DueSchedule.CreatedCheck"/> after its create, falls in or near them: "first
/// checks due"), waits until the due index holds no row due before the next window ends (a bounded wait, read from the
/// index itself) and measures idle passes with the sales open and nothing due, then approves <c>--reconciler-due K</c>
/// of them and never reports a vend, so their vend deadline makes them due, and measures the passes until the
/// reconciler has released all K.
/// <para>A pass is counted by the runner's own log line "Reconciler examined N sales" (the timer function logs one per
/// pass), read from every instance's log file; a window runs from the end of one pass to the end of the P-th pass
/// after it, so it holds whole passes. The requests of a window are every table request except the webhook
/// watchdog's table (<c>WebhookRegistrations</c>, the other timer) and table creation, plus queue puts (commands a pass
/// enqueues); queue trigger polls are left out (they are idle cost of the queue triggers, not of the pass).</para>
/// </summary>
internal static partial class ReconcilerScalePhase
{
    private const string WatchdogTable = "table:WebhookRegistrations:";

    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var options = run.Options;
        var figures = new ReconcilerScaleFigures
        {
            Machines = options.ReconcilerScaleMachines,
            OpenSales = options.ReconcilerScaleOpenSales,
            DueSales = options.ReconcilerScaleDue,
            IntervalSeconds = options.ReconcilerIntervalSeconds,
            BatchSize = 500,
        };
        run.Report.ReconcilerScale = figures;
        var logs = run.Stack.Instances.OfType<ChildProcessFunctionApp>().Select(i => i.LogPath).ToList();
        if (run.Proxy is not { } proxy || logs.Count == 0)
        {
            figures.Why = run.Proxy is null ? "--no-storage-count: the storage proxy counts the requests" : "no runner log files to count passes in";
            return;
        }

        var passes = new PassCounter(logs);
        var clock = Stopwatch.StartNew();
        run.Log($"Reconciler scale: provisioning {figures.Machines} machines ...");
        var machines = await ProvisionAsync(run, figures.Machines, cancellationToken);
        figures.ProvisionSeconds = clock.Elapsed.TotalSeconds;

        run.Log("Reconciler scale: idle passes with no open sale ...");
        figures.IdleEmpty = await MeasurePassesAsync(run, proxy, passes, options.ReconcilerScalePasses, null, cancellationToken);

        run.Log($"Reconciler scale: creating {figures.OpenSales} open sales ...");
        clock.Restart();
        var references = await CreateSalesAsync(run, machines.Take(figures.OpenSales).ToList(), figures, cancellationToken);
        figures.CreateSeconds = clock.Elapsed.TotalSeconds;

        run.Log($"Reconciler scale: passes right after the creates, {references.Count} open sales, their first checks due ...");
        figures.FirstChecks = await MeasurePassesAsync(run, proxy, passes, options.ReconcilerScalePasses, null, cancellationToken);

        // The idle window: every open sale's one first check has been made and nothing is due before the window ends.
        var window = IdleWindow(options);
        run.Log($"Reconciler scale: waiting until the due index holds no row due within {window.TotalSeconds:F0} s ...");
        clock.Restart();
        var settleLimit = DueSchedule.CreatedCheck + TimeSpan.FromSeconds(180);
        figures.IdleSettled = await Wait.UntilAsync(async () => NothingDueWithin(await EarliestDueAsync(run, cancellationToken), DateTimeOffset.UtcNow, window),
            settleLimit, cancellationToken, TimeSpan.FromMilliseconds(250));
        figures.IdleSettleSeconds = clock.Elapsed.TotalSeconds;
        if (!figures.IdleSettled)
        {
            run.Report.Notes.Add($"reconciler scale: the due index still held a row due within {window.TotalSeconds:F0} s after {settleLimit.TotalSeconds:F0} s; the idle window was measured anyway");
        }

        run.Log($"Reconciler scale: idle passes with {references.Count} open sales, nothing due ...");
        figures.Idle = await MeasurePassesAsync(run, proxy, passes, options.ReconcilerScalePasses, null, cancellationToken);

        if (figures.DueSales > 0 && references.Count > 0)
        {
            var due = references.Take(figures.DueSales).ToList();
            run.Log($"Reconciler scale: approving {due.Count} sales whose machine never reports, waiting for their vend deadline ...");
            await ApproveAsync(run, due, cancellationToken);
            var authorized = await Wait.UntilAsync(async () => await CountInStatesAsync(run, due, ["Authorized"], cancellationToken) == due.Count,
                TimeSpan.FromSeconds(60), cancellationToken, TimeSpan.FromMilliseconds(250));
            if (!authorized)
            {
                run.Report.Notes.Add("reconciler scale: not every approved sale was Authorized within 60 s; the due window counts from then anyway");
            }

            var deadline = TimeSpan.FromSeconds(options.VendReportDeadlineSeconds + 180);
            figures.Due = await MeasurePassesAsync(run, proxy, passes, 1,
                async () => await CountInStatesAsync(run, due, Invariants.FinalStates, cancellationToken) == due.Count ? true : (bool?)null,
                cancellationToken, deadline);
            figures.DueReleased = await CountInStatesAsync(run, due, Invariants.FinalStates, cancellationToken);
            await CheckReleasedAsync(run, due, cancellationToken);
        }

        figures.Measured = true;
    }

    /// <summary>How far ahead nothing may be due for the idle window to hold only idle passes: the window's passes, the
    /// one it waits for before counting, and two more for slack (a pass can run late on a loaded machine).</summary>
    internal static TimeSpan IdleWindow(LoadOptions options) =>
        TimeSpan.FromSeconds(options.ReconcilerIntervalSeconds * (options.ReconcilerScalePasses + 3));

    /// <summary>Idle: the earliest row of the due index (null: the index is empty) is due after <paramref name="now"/> +
    /// <paramref name="window"/>, so no pass in the window has anything to examine.</summary>
    internal static bool NothingDueWithin(DateTimeOffset? earliestDue, DateTimeOffset now, TimeSpan window) =>
        earliestDue is not { } due || due > now + window;

    /// <summary>The due index's earliest row (its row keys sort by due time): one query of one row.</summary>
    private static async Task<DateTimeOffset?> EarliestDueAsync(RunContext run, CancellationToken cancellationToken)
    {
        var table = run.Tables.GetTableClient(TableNames.OpenSales);
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {DueSaleIndex.Partition}"),
            maxPerPage: 1, select: ["RowKey", "DueAt"], cancellationToken: cancellationToken))
        {
            return row.GetDateTimeOffset("DueAt")?.ToUniversalTime() ?? DateTimeOffset.MinValue;
        }

        return null;
    }

    private static async Task<List<MachineApiClient>> ProvisionAsync(RunContext run, int count, CancellationToken cancellationToken)
    {
        var clients = new MachineApiClient[count];
        using var gate = new SemaphoreSlim(16);
        var (merchant, currency) = run.Merchants[0];
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var profile = await run.ProvisionOneAsync($"rs-m{i:D5}", merchant, currency, false, cancellationToken);
                clients[i] = new MachineApiClient(run.Http, new ProvisionedMachine(profile.MachineId, profile.ApiKey));
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. clients];
    }

    private static async Task<List<string>> CreateSalesAsync(RunContext run, List<MachineApiClient> machines, ReconcilerScaleFigures figures, CancellationToken cancellationToken)
    {
        var references = new string?[machines.Count];
        using var gate = new SemaphoreSlim(16);
        var currency = run.Merchants[0].Currency;
        var failures = 0;
        await Task.WhenAll(machines.Select(async (machine, i) =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var body = new { machineSaleId = $"rs-{i:D5}", currency, lines = MachineApiClient.Cola(2000) };
                var answer = await machine.CreateAsync(body, TimeSpan.FromSeconds(60), cancellationToken);
                if (answer.StatusCode == 201 && answer.Json.TryGetProperty("reference", out var reference))
                {
                    references[i] = reference.GetString();
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        figures.CreateFailures = failures;
        return [.. references.OfType<string>()];
    }

    private static async Task ApproveAsync(RunContext run, List<string> references, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(references.Select(async reference =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var outcome = await VirtualMachine.SimulatorCustomerAsync(run.SimulatorHttp, run.Simulator.BaseUrl, reference, "approve", cancellationToken);
                if (outcome != "approve: 200")
                {
                    run.Report.Notes.Add($"reconciler scale: approving {reference} answered {outcome}");
                }
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static async Task<int> CountInStatesAsync(RunContext run, List<string> references, IReadOnlyCollection<string> states, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var reference in references)
        {
            if (await SalesTable.ReadSaleAsync(run.Tables, reference, cancellationToken) is { } sale && states.Contains(sale.State))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The money invariant of a released sale: nothing captured at Vipps, the whole authorization cancelled.</summary>
    private static async Task CheckReleasedAsync(RunContext run, List<string> references, CancellationToken cancellationToken)
    {
        foreach (var reference in references)
        {
            var stored = await SalesTable.ReadSaleAsync(run.Tables, reference, cancellationToken);
            var vipps = run.Simulator.Ledger.Find(reference);
            if (stored is null || !Invariants.FinalStates.Contains(stored.State))
            {
                run.Report.Violations.Add(new Violation(reference, "due sale released", $"state {stored?.State ?? "missing"} after the window"));
            }
            else if (vipps is null || vipps.Captured != 0 || vipps.Cancelled != vipps.Authorized)
            {
                run.Report.Violations.Add(new Violation(reference, "due sale released",
                    $"Vipps authorized {vipps?.Authorized}, captured {vipps?.Captured}, cancelled {vipps?.Cancelled}"));
            }
        }
    }

    /// <summary>
    /// Waits for a pass to end, then counts requests until <paramref name="passCount"/> more have ended and, when given,
    /// <paramref name="until"/> holds at the end of a pass (null: not yet).
    /// </summary>
    private static async Task<PassFigures> MeasurePassesAsync(RunContext run, StorageProxy proxy, PassCounter passes, int passCount,
        Func<Task<bool?>>? until, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(Math.Max(60, run.Options.ReconcilerIntervalSeconds * passCount * 10));
        var first = passes.Read().Count;
        if (!await Wait.UntilAsync(() => Task.FromResult(passes.Read().Count > first), limit, cancellationToken, TimeSpan.FromMilliseconds(20)))
        {
            return new PassFigures { Why = $"no reconciler pass ended within {limit.TotalSeconds:F0} s" };
        }

        var (startPasses, startExamined) = passes.Read();
        var start = proxy.Snapshot();
        var clock = Stopwatch.StartNew();
        var lastSeen = startPasses;
        var done = await Wait.UntilAsync(async () =>
        {
            var (now, _) = passes.Read();
            if (now == lastSeen || now - startPasses < passCount)
            {
                lastSeen = now;
                return false;
            }

            lastSeen = now;
            return until is null || await until() == true;
        }, limit, cancellationToken, TimeSpan.FromMilliseconds(20));
        var delta = proxy.Snapshot().Minus(start);
        var (endPasses, endExamined) = passes.Read();
        var counted = endPasses - startPasses;
        if (counted <= 0)
        {
            return new PassFigures { Why = "no whole pass in the window" };
        }

        var included = delta.ByKind.Where(kv => Included(kv.Key)).ToList();
        return new PassFigures
        {
            Completed = done,
            Passes = counted,
            Seconds = clock.Elapsed.TotalSeconds,
            RequestsPerPass = included.Sum(kv => kv.Value) / (double)counted,
            ExaminedPerPass = (endExamined - startExamined) / (double)counted,
            ByKindPerPass = new SortedDictionary<string, double>(included.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value / (double)counted, 1)), StringComparer.Ordinal),
            LeftOutPerPass = new SortedDictionary<string, double>(delta.ByKind.Where(kv => !Included(kv.Key))
                .ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value / (double)counted, 1)), StringComparer.Ordinal),
        };
    }

    internal static bool Included(string kind) =>
        kind.StartsWith("table:", StringComparison.Ordinal)
            ? !kind.StartsWith(WatchdogTable, StringComparison.Ordinal) && !kind.StartsWith("table:(tables):", StringComparison.Ordinal)
            : kind.EndsWith(":put", StringComparison.Ordinal);

    /// <summary>Completed reconciler passes (and the sales they examined), from the runners' log files.</summary>
    internal sealed partial class PassCounter(IReadOnlyList<string> logPaths)
    {
        public (int Count, long Examined) Read()
        {
            int count = 0;
            long examined = 0;
            foreach (var path in logPaths)
            {
                if (!File.Exists(path))
                {
                    continue;
                }

                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                var (c, e) = Count(reader.ReadToEnd());
                count += c;
                examined += e;
            }

            return (count, examined);
        }

        internal static (int Count, long Examined) Count(string log)
        {
            var matches = PassLine().Matches(log);
            return (matches.Count, matches.Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        }

        [GeneratedRegex(@"Reconciler examined (\d+) sales")]
        private static partial Regex PassLine();
    }
}
