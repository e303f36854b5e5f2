using System.Globalization;

namespace LoadTest;

/// <summary>
/// What one harness run does. The command line (<see cref="Parse"/>) and the xunit test build the same object; every
/// loop it drives is bounded by a count and by a time limit, so a run always stops by itself.
/// </summary>
public sealed class LoadOptions
{
    /// <summary>Virtual machines selling concurrently.</summary>
    public int Machines { get; set; } = 50;

    /// <summary>Instances of the Function App over the same storage, round robin behind one front (<c>--instances</c>).</summary>
    public int Instances { get; set; } = 1;

    /// <summary>Sales per machine, one after the other.</summary>
    public int SalesPerMachine { get; set; } = 20;

    /// <summary>Simulator faults (5xx/429/423, latency, hangs, lost responses, duplicate/dropped/delayed webhooks) and a runner crash + restart mid-run.</summary>
    public bool Faults { get; set; }

    /// <summary>Seeds the customers, the machines and the simulator's fault source.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Where to write the JSON summary (null: not written).</summary>
    public string? JsonPath { get; set; }

    /// <summary>Kill the runner process (SIGKILL) once this share of the sales has finished, then start it again. Only with <see cref="Faults"/>.</summary>
    public double RestartAtFraction { get; set; } = 0.4;

    /// <summary>
    /// A Vipps outage of the commands: every capture, cancel and refund answers 503 for this many seconds, starting
    /// when <see cref="OutageAtFraction"/> of the sales have finished (a simulator rule with <c>ForSeconds</c>). 0: none.
    /// </summary>
    public int OutageSeconds { get; set; }

    /// <summary>Share of the sales finished when the <see cref="OutageSeconds"/> outage begins.</summary>
    public double OutageAtFraction { get; set; } = 0.5;

    /// <summary>How long the runner stays down before it is started again.</summary>
    public TimeSpan RestartDowntime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Simulator: a CREATED payment expires after this long (walk-away customers).</summary>
    public int PaymentExpirySeconds { get; set; } = 8;

    /// <summary>Product: Authorized without a vend report for this long is released by the reconciler (its minimum is 10).</summary>
    public int VendReportDeadlineSeconds { get; set; } = 10;

    /// <summary>The runner's timers (the reconciler) run at this fixed interval.</summary>
    public int ReconcilerIntervalSeconds { get; set; } = 2;

    /// <summary>After the last machine finished, every sale must be final within this time.</summary>
    public TimeSpan ConvergeTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Upper bound of the whole drive phase (machines stop starting new sales after it).</summary>
    public TimeSpan DriveTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Webhook burst: this many sales are created, then approved all at once; the AUTHORIZED webhooks measure handling throughput. 0: skipped.</summary>
    public int BurstSales { get; set; } = 200;

    /// <summary>Sequential happy-path sales whose storage requests are counted one by one. 0: skipped.</summary>
    public int CalibrationSales { get; set; } = 10;

    /// <summary>Raw Azurite single-insert loop: at most this many inserts per mode, and at most <see cref="BaselineDuration"/>. 0: skipped.</summary>
    public int BaselineInserts { get; set; } = 3000;

    public TimeSpan BaselineDuration { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Scenarios in a fixed rotation instead of drawn at random (small runs that must cover every path).</summary>
    public bool RotateScenarios { get; set; }

    /// <summary>Webhook drop rate under <see cref="Faults"/> (the rest of the fault profile is fixed).</summary>
    public double WebhookDropRate { get; set; } = 0.1;

    /// <summary>Route the runner's storage traffic through a counting proxy (storage requests per sale). Off: "not measured".</summary>
    public bool CountStorage { get; set; } = true;

    /// <summary>Reconciler scale (<c>--reconciler-scale MACHINES,OPEN</c>): machines provisioned; 0: the normal run
    /// (this mode runs instead of the baseline, calibration, drive and burst, see <see cref="Phases.ReconcilerScalePhase"/>).</summary>
    public int ReconcilerScaleMachines { get; set; }

    /// <summary>Open sales (one per machine, never approved) during the reconciler-scale idle passes.</summary>
    public int ReconcilerScaleOpenSales { get; set; }

    /// <summary>Of those, this many are approved and never reported, so their vend deadline makes them due (<c>--reconciler-due</c>).</summary>
    public int ReconcilerScaleDue { get; set; } = 50;

    /// <summary>Whole reconciler passes per idle window.</summary>
    public int ReconcilerScalePasses { get; set; } = 5;

    public bool ReconcilerScale => ReconcilerScaleMachines > 0;

    /// <summary>No drive: the reconciler-scale phase makes its own machines and sales, and a walk-away payment must not
    /// expire while it measures (the command line and <see cref="LoadHarness.RunAsync"/> both call this).</summary>
    internal void UseReconcilerScaleMode()
    {
        Machines = 1;
        CalibrationSales = 0;
        BurstSales = 0;
        BaselineInserts = 0;
        PaymentExpirySeconds = Math.Max(PaymentExpirySeconds, 3600);
    }

    /// <summary>Progress lines (null: quiet).</summary>
    public Action<string>? Log { get; set; } = Console.WriteLine;

    /// <summary>Sales finished of the drive's total, twice a second while it runs (the command line's progress bar).</summary>
    public Action<int, int>? Progress { get; set; }

    public const string Usage =
        "Usage: dotnet run --project tools/LoadTest -c Release -- [--machines 50] [--sales 20] [--instances 1] [--faults] [--outage SECONDS] [--seed N] [--json out.json]\n" +
        "       [--burst 200] [--calibration 10] [--baseline-inserts 3000] [--expiry-seconds 8] [--vend-deadline-seconds 10]\n" +
        "       [--reconciler-seconds 2] [--converge-seconds 120] [--drop-rate 0.1] [--rotate-scenarios] [--no-storage-count]\n" +
        "       [--reconciler-scale MACHINES,OPEN [--reconciler-due 50] [--reconciler-passes 5]]  (instead of the drive)";

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            int Int() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--machines": options.Machines = Int(); break;
                case "--instances": options.Instances = Int(); break;
                case "--sales": options.SalesPerMachine = Int(); break;
                case "--faults": options.Faults = true; break;
                case "--outage": options.OutageSeconds = Int(); break;
                case "--seed": options.Seed = Int(); break;
                case "--json": options.JsonPath = Next(); break;
                case "--burst": options.BurstSales = Int(); break;
                case "--calibration": options.CalibrationSales = Int(); break;
                case "--baseline-inserts": options.BaselineInserts = Int(); break;
                case "--expiry-seconds": options.PaymentExpirySeconds = Int(); break;
                case "--vend-deadline-seconds": options.VendReportDeadlineSeconds = Int(); break;
                case "--reconciler-seconds": options.ReconcilerIntervalSeconds = Int(); break;
                case "--converge-seconds": options.ConvergeTimeout = TimeSpan.FromSeconds(Int()); break;
                case "--drop-rate": options.WebhookDropRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rotate-scenarios": options.RotateScenarios = true; break;
                case "--no-storage-count": options.CountStorage = false; break;
                case "--reconciler-scale":
                    var pair = Next().Split(',');
                    if (pair.Length != 2)
                    {
                        throw new ArgumentException("--reconciler-scale takes MACHINES,OPEN (e.g. 5000,1000).");
                    }

                    options.ReconcilerScaleMachines = int.Parse(pair[0], NumberStyles.None, CultureInfo.InvariantCulture);
                    options.ReconcilerScaleOpenSales = int.Parse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                case "--reconciler-due": options.ReconcilerScaleDue = Int(); break;
                case "--reconciler-passes": options.ReconcilerScalePasses = Int(); break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.\n{Usage}");
            }
        }

        if (options.Machines is < 1 or > 500 || options.SalesPerMachine is < 1 or > 1000)
        {
            throw new ArgumentException("--machines must be 1..500 and --sales 1..1000.");
        }

        if (options.Instances is < 1 or > 8)
        {
            throw new ArgumentException("--instances must be 1..8.");
        }

        if (options.OutageSeconds is < 0 or > 3600)
        {
            throw new ArgumentException("--outage must be 0..3600 seconds.");
        }

        if (options.ReconcilerScale)
        {
            if (options.ReconcilerScaleMachines > 20000 || options.ReconcilerScaleOpenSales > options.ReconcilerScaleMachines
                || options.ReconcilerScaleDue > options.ReconcilerScaleOpenSales || options.ReconcilerScalePasses is < 1 or > 100)
            {
                throw new ArgumentException("--reconciler-scale MACHINES,OPEN: MACHINES 1..20000, OPEN at most MACHINES, --reconciler-due at most OPEN, --reconciler-passes 1..100.");
            }

            options.UseReconcilerScaleMode();
        }

        if (options.VendReportDeadlineSeconds < 10)
        {
            throw new ArgumentException("--vend-deadline-seconds must be at least 10 (Vending:VendReportDeadlineSeconds is validated at start).");
        }

        return options;
    }
}
