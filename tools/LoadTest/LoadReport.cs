using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LoadTest;

/// <summary>Everything a run measured and found: printed as text and written as the JSON summary.</summary>
public sealed class LoadReport
{
    public required RunInfo Run { get; init; }

    public SalesSummary Sales { get; set; } = new();

    public LatencySummary ApprovalToMachine { get; set; } = LatencySummary.Of([]);

    /// <summary>With several instances: approvals whose long poll ran on the instance the AUTHORIZED webhook landed on.</summary>
    public LatencySummary? ApprovalSameInstance { get; set; }

    /// <summary>With several instances: approvals whose long poll ran on another instance (it re-reads storage).</summary>
    public LatencySummary? ApprovalCrossInstance { get; set; }

    /// <summary>Approvals whose AUTHORIZED webhook reached the product (the simulator's delivery log says Delivered).</summary>
    public LatencySummary ApprovalWebhookDelivered { get; set; } = LatencySummary.Of([]);

    /// <summary>Approvals whose AUTHORIZED webhook the simulator dropped (a fault): the machine learned it from the
    /// long poll's own Vipps poll or the reconciler.</summary>
    public LatencySummary ApprovalWebhookDropped { get; set; } = LatencySummary.Of([]);

    /// <summary>The reconciler's storage cost per pass at scale (<c>--reconciler-scale</c>); null when not run.</summary>
    public ReconcilerScaleFigures? ReconcilerScale { get; set; }

    public LatencySummary CreatePayment { get; set; } = LatencySummary.Of([]);

    /// <summary>Crashed machines: how long after the vend-report deadline the reservation was released.</summary>
    public LatencySummary ReleaseAfterDeadline { get; set; } = LatencySummary.Of([]);

    public WebhookFigures Webhooks { get; set; } = new();

    /// <summary>Where the latency goes: approval legs, CPU per process, Azurite per request, the host's ceiling.</summary>
    public LatencyDiagnostics Diagnostics { get; set; } = new();

    public StorageFigures Storage { get; set; } = new();

    public RunnerFigures Runner { get; set; } = new();

    public VippsFigures Vipps { get; set; } = new();

    public AzuriteBaseline Azurite { get; set; } = new();

    public List<TargetResult> Targets { get; } = new();

    public List<Violation> Violations { get; } = new();

    public List<string> Notes { get; } = new();

    /// <summary>History rows of the sales behind the first violations.</summary>
    public SortedDictionary<string, List<string>> Histories { get; } = new(StringComparer.Ordinal);

    [JsonIgnore]
    public IReadOnlyList<SaleRecord> Records { get; set; } = [];

    [JsonIgnore]
    public bool Passed => Violations.Count == 0;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToText()
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.AppendLine(line);
        var c = CultureInfo.InvariantCulture;
        Line($"== Load run: {Run.Machines} machines x {Run.SalesPerMachine} sales, {Run.Instances} instance(s), faults {(Run.Faults ? "ON" : "off")}, seed {Run.Seed}");
        Line($"   machine: {Run.ProcessorCount} cores, {Run.Os}, .NET {Run.Runtime}; load average at start {Run.LoadAverageAtStart}, at end {Run.LoadAverageAtEnd}");
        Line($"   drive {Run.DriveSeconds.ToString("F1", c)} s, converge {Run.ConvergeSeconds.ToString("F1", c)} s, whole run {Run.TotalSeconds.ToString("F1", c)} s; runner restarts: {Runner.Restarts}" +
             (Runner.OutageStartedAfterSales is { } outageAfter ? $"; Vipps commands 503 for {Runner.OutageSeconds} s from sale {outageAfter}" : ""));
        Line();
        Line($"Sales: {Sales.Total} ({Sales.Final} final, {Sales.NotFinal} not final); by state: {Join(Sales.ByState)}");
        Line($"   scenarios: {Join(Sales.ByScenario)}");
        Line($"   delivered but not charged (vend report refused as too late): {Sales.DeliveredNotCharged} sales, " +
             (Sales.DeliveredNotChargedAmount.Count == 0 ? "nothing" : string.Join(", ", Sales.DeliveredNotChargedAmount.Select(kv => $"{kv.Key} {kv.Value.ToString(c)} minor units"))));
        Line($"   vend reports refused: {Sales.VendRefused}; creates abandoned: {Sales.CreatesAbandoned}; creates that waited for the machine's previous sale (409 open_sale_exists): {Sales.OpenSaleWaits}, retried {Sales.OpenSaleRetries} times at 1/s");
        Line();
        Line($"Approval -> machine long-poll answer: {ApprovalToMachine}");
        if (ApprovalSameInstance is { } same && ApprovalCrossInstance is { } cross)
        {
            Line($"   long poll on the instance the webhook landed on: {same}");
            Line($"   long poll on another instance:                   {cross}");
        }

        Line($"   AUTHORIZED webhook delivered: {ApprovalWebhookDelivered}");
        Line($"   AUTHORIZED webhook dropped:   {ApprovalWebhookDropped}");
        Diagnostics.WriteText(line => Line(line));
        if (ReconcilerScale is { } scale)
        {
            scale.WriteText(Line);
        }

        Line($"Create payment (POST /api/payments):  {CreatePayment}");
        Line($"Crashed machine released after its vend-report deadline by: {ReleaseAfterDeadline} (reconciler every {Run.ReconcilerIntervalSeconds} s)");
        Line($"Webhooks: burst of {Webhooks.BurstCount} AUTHORIZED handled at {Webhooks.BurstHandledPerSecond.ToString("F0", c)}/s " +
             $"(attempt duration {Webhooks.BurstAttemptDuration}); during the drive {Webhooks.DeliveredDuringDrive} delivered " +
             $"({Webhooks.DeliveredPerSecondDuringDrive.ToString("F1", c)}/s offered), {Webhooks.Dropped} dropped " +
             $"({Webhooks.DroppedAuthorized} AUTHORIZED), {Webhooks.Duplicates} duplicates, {Webhooks.FailedAttempts} failed attempts");
        if (Storage.Measured)
        {
            Line($"Storage: {Storage.PerHappySaleUntilCaptured.ToString("F1", c)} requests per happy-path sale from create to Captured " +
                 $"({Storage.PerHappySaleExcludingEmptyPolls.ToString("F1", c)} without empty queue polls), n={Storage.CalibrationSales}, idle {Storage.IdlePerSecond.ToString("F1", c)}/s subtracted;");
            Line($"   + {Storage.ClosePerSale.ToString("F1", c)} for the reconciler to close it{(Storage.CloseMeasured ? "" : " (NOT all closed within 60 s)")} = {Storage.PerHappySale.ToString("F1", c)} over its whole life");
            Line($"   request path by kind: {string.Join(", ", Storage.PerHappySaleByKind.Select(kv => $"{kv.Key} {kv.Value.ToString("F2", c)}"))}");
            Line($"   close by kind: {string.Join(", ", Storage.ClosePerSaleByKind.Select(kv => $"{kv.Key} {kv.Value.ToString("F2", c)}"))}");
            Line($"   whole drive+converge: {Storage.DriveRequests} requests for {Storage.DriveSales} sales = {Storage.DrivePerSale.ToString("F1", c)} per sale (all scenarios, faults, reconciler and idle polling included)");
        }
        else
        {
            Line($"Storage: not measured ({Storage.Why})");
        }

        Line($"Vipps: {Vipps.InFlightConflicts} request(s) refused 409 because their idempotency key was still in flight (two callers on one operation)");
        Line($"Runner peak memory (VmHWM): worker {Mb(Runner.PeakWorkerMemoryBytes)}, host {Mb(Runner.PeakHostMemoryBytes)}, " +
             $"both {Mb(Runner.PeakMemoryBytes)}; peak RSS of both sampled {Mb(Runner.PeakRssBytes)}");
        Line($"Azurite raw single-entity inserts: {Azurite.SequentialPerSecond.ToString("F0", c)}/s sequential, " +
             $"{Azurite.ConcurrentPerSecond.ToString("F0", c)}/s with {Azurite.Concurrency} concurrent loops");
        Line();
        Line("Targets (goals, not assertions):");
        foreach (var target in Targets)
        {
            Line($"   [{(target.Met is null ? "n/a " : target.Met.Value ? "met " : "MISS")}] {target.Name}: target {target.Target}, measured {target.Measured}");
        }

        foreach (var note in Notes)
        {
            Line($"Note: {note}");
        }

        Line();
        if (Violations.Count == 0)
        {
            Line(ReconcilerScale is { } scaled
                ? $"Invariants: the {scaled.DueReleased} due sales were released with nothing captured (reconciler-scale mode: no drive)."
                : $"Invariants: all hold for {Sales.Total} sales.");
        }
        else
        {
            Line($"INVARIANT VIOLATIONS ({Violations.Count}):");
            foreach (var violation in Violations.Take(200))
            {
                Line($"   {violation}");
            }

            foreach (var (sale, history) in Histories)
            {
                Line($"History of {sale}:");
                foreach (var entry in history)
                {
                    Line($"   {entry}");
                }
            }
        }

        return text.ToString();
    }

    private static string Join(IReadOnlyDictionary<string, int> counts) => string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}"));

    private static string Mb(long? bytes) => bytes is { } b ? $"{b / 1024.0 / 1024.0:F0} MB" : "not measured (no /proc)";
}

public sealed class RunInfo
{
    public int Machines { get; init; }
    public int Instances { get; set; } = 1;
    public int SalesPerMachine { get; init; }
    public bool Faults { get; init; }
    public int Seed { get; init; }
    public int ReconcilerIntervalSeconds { get; init; }
    public int VendReportDeadlineSeconds { get; init; }
    public int PaymentExpirySeconds { get; init; }
    public bool StorageProxy { get; init; }
    public int ProcessorCount { get; init; } = Environment.ProcessorCount;
    public string Os { get; init; } = System.Runtime.InteropServices.RuntimeInformation.OSDescription;
    public string Runtime { get; init; } = Environment.Version.ToString();
    public string LoadAverageAtStart { get; init; } = LoadAverage();
    public string LoadAverageAtEnd { get; set; } = "";
    public double DriveSeconds { get; set; }
    public double ConvergeSeconds { get; set; }
    public double TotalSeconds { get; set; }
    public string WorkDirectory { get; set; } = "";

    public static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}

public sealed class SalesSummary
{
    public int Total { get; set; }
    public int Final { get; set; }
    public int NotFinal { get; set; }
    public int VendRefused { get; set; }

    /// <summary>Vend reports refused as too late (<c>vend_report_too_late</c>) that said goods left the machine.</summary>
    public int DeliveredNotCharged { get; set; }

    /// <summary>The goods of <see cref="DeliveredNotCharged"/>, per currency (minor units).</summary>
    public SortedDictionary<string, long> DeliveredNotChargedAmount { get; set; } = new(StringComparer.Ordinal);
    public int CreatesAbandoned { get; set; }
    public int OpenSaleWaits { get; set; }
    public int OpenSaleRetries { get; set; }
    public SortedDictionary<string, int> ByState { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, int> ByScenario { get; set; } = new(StringComparer.Ordinal);
}

public sealed class WebhookFigures
{
    public int BurstCount { get; set; }
    public double BurstSeconds { get; set; }
    public double BurstHandledPerSecond { get; set; }
    public LatencySummary BurstAttemptDuration { get; set; } = LatencySummary.Of([]);
    public int DeliveredDuringDrive { get; set; }
    public double DeliveredPerSecondDuringDrive { get; set; }
    public int Dropped { get; set; }
    public int DroppedAuthorized { get; set; }
    public int Duplicates { get; set; }
    public int FailedAttempts { get; set; }
}

public sealed class StorageFigures
{
    public bool Measured { get; set; }
    public string? Why { get; set; }
    public int CalibrationSales { get; set; }
    public double IdlePerSecond { get; set; }
    public double IdlePerSecondWithTimers { get; set; }
    public bool CloseMeasured { get; set; }
    public double ClosePerSale { get; set; }
    public SortedDictionary<string, double> ClosePerSaleByKind { get; set; } = new(StringComparer.Ordinal);
    public double PerHappySale { get; set; }
    public double PerHappySaleUntilCaptured { get; set; }
    public double PerHappySaleExcludingEmptyPolls { get; set; }
    public SortedDictionary<string, double> PerHappySaleByKind { get; set; } = new(StringComparer.Ordinal);
    public long DriveRequests { get; set; }
    public int DriveSales { get; set; }
    public double DrivePerSale { get; set; }
    public SortedDictionary<string, long> DriveByKind { get; set; } = new(StringComparer.Ordinal);
}

public sealed class VippsFigures
{
    /// <summary>Requests the simulator refused with 409 because the same idempotency key was still in flight: two chains working one operation at once.</summary>
    public long InFlightConflicts { get; set; }
}

public sealed class RunnerFigures
{
    /// <summary>The highest peak (VmHWM) of any instance's worker: the process that runs our code in Azure too, and so
    /// the one the memory target is judged on.</summary>
    public long? PeakWorkerMemoryBytes { get; set; }

    /// <summary>The highest peak of any instance's local Functions host (our stand-in for Azure's, which the platform runs).</summary>
    public long? PeakHostMemoryBytes { get; set; }

    /// <summary>The highest sum of one instance's host and worker peaks.</summary>
    public long? PeakMemoryBytes { get; set; }
    public long? PeakRssBytes { get; set; }
    public int Restarts { get; set; }

    /// <summary>The Vipps command outage (<c>--outage</c>): how long, and after how many finished sales it began (null: none).</summary>
    public int OutageSeconds { get; set; }

    public int? OutageStartedAfterSales { get; set; }
}

public sealed class AzuriteBaseline
{
    public int SequentialInserts { get; set; }
    public double SequentialPerSecond { get; set; }
    public int Concurrency { get; set; }
    public int ConcurrentInserts { get; set; }
    public double ConcurrentPerSecond { get; set; }
}

public sealed record TargetResult(string Name, string Target, string Measured, bool? Met);

/// <summary>The reconciler's storage requests per pass at scale (see <see cref="Phases.ReconcilerScalePhase"/>).</summary>
public sealed class ReconcilerScaleFigures
{
    public bool Measured { get; set; }

    public string? Why { get; set; }

    public int Machines { get; set; }

    public int OpenSales { get; set; }

    public int DueSales { get; set; }

    public int IntervalSeconds { get; set; }

    /// <summary>The product's <c>Vending:ReconcileBatchSize</c> default, for reading "examined per pass".</summary>
    public int BatchSize { get; set; }

    public double ProvisionSeconds { get; set; }

    public double CreateSeconds { get; set; }

    public int CreateFailures { get; set; }

    /// <summary>Idle passes with the machines provisioned and no open sale.</summary>
    public PassFigures? IdleEmpty { get; set; }

    /// <summary>The passes right after the creates, while the new sales' one first check each is due.</summary>
    public PassFigures? FirstChecks { get; set; }

    /// <summary>Whether the due index held no row due within the idle window before it was measured (false: the wait's
    /// deadline passed first).</summary>
    public bool IdleSettled { get; set; }

    /// <summary>How long that wait took, from the end of the first-checks window.</summary>
    public double IdleSettleSeconds { get; set; }

    /// <summary>Idle passes with <see cref="OpenSales"/> open sales once their first checks are made and none is due.</summary>
    public PassFigures? Idle { get; set; }

    /// <summary>The passes from the due sales' authorization until the reconciler released them all (and the commands it enqueued).</summary>
    public PassFigures? Due { get; set; }

    public int DueReleased { get; set; }

    /// <summary>Idle cost per sale a pass examined: (idle pass - empty pass) / sales examined per idle pass (0 when an
    /// idle pass examines none).</summary>
    public double? IdlePerExaminedSale => Idle is { Passes: > 0 } idle && IdleEmpty is { Passes: > 0 } empty
        ? idle.ExaminedPerPass > 0 ? (idle.RequestsPerPass - empty.RequestsPerPass) / idle.ExaminedPerPass : 0
        : null;

    /// <summary>What the due window cost per due sale above what its passes would have cost idle: the window's requests
    /// minus an empty pass's cost per pass and the idle cost per examined sale for every sale its passes examined.
    /// Normalised by sales examined because a pass's batch (and so its idle cost) varies with the list's cursor.</summary>
    public double? ExtraPerDueSale => Due is { Passes: > 0 } due && IdleEmpty is { Passes: > 0 } empty && IdlePerExaminedSale is { } perExamined && DueSales > 0
        ? ((due.RequestsPerPass * due.Passes) - (empty.RequestsPerPass * due.Passes) - (perExamined * due.ExaminedPerPass * due.Passes)) / DueSales
        : null;

    internal void WriteText(Action<string> line)
    {
        var c = CultureInfo.InvariantCulture;
        if (!Measured && Why is not null)
        {
            line($"Reconciler scale: not measured ({Why})");
            return;
        }

        line($"Reconciler scale: {Machines} machines provisioned in {ProvisionSeconds.ToString("F0", c)} s, {OpenSales} open sales created in {CreateSeconds.ToString("F0", c)} s " +
             $"({CreateFailures} failed), timers every {IntervalSeconds} s; requests per pass = table requests (not the watchdog's WebhookRegistrations) + queue puts");
        line($"   idle, no open sale:        {IdleEmpty}");
        line($"   {OpenSales} open sales, first checks due: {FirstChecks}");
        line($"   idle, {OpenSales} open sales, nothing due ({(IdleSettled ? "" : "NOT ")}settled after {IdleSettleSeconds.ToString("F0", c)} s): {Idle}");
        line($"   {DueSales} due (vend deadline): {Due}; released {DueReleased}/{DueSales}" +
             (ExtraPerDueSale is { } extra ? $"; {extra.ToString("F1", c)} requests per due sale above idle" : ""));
        if (IdlePerExaminedSale is { } perExamined)
        {
            line($"   idle cost per open sale a pass examined: {perExamined.ToString("F2", c)} requests");
        }
    }
}

/// <summary>Whole reconciler passes counted in one window.</summary>
public sealed class PassFigures
{
    public string? Why { get; set; }

    /// <summary>False when the window's condition (all due sales released) did not hold before its time limit.</summary>
    public bool Completed { get; set; }

    public int Passes { get; set; }

    public double Seconds { get; set; }

    public double RequestsPerPass { get; set; }

    /// <summary>Sales the reconciler said it examined, per pass (its log line).</summary>
    public double ExaminedPerPass { get; set; }

    public SortedDictionary<string, double> ByKindPerPass { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Counted in the window but not the pass's: queue trigger polls, the watchdog's table, table creation.</summary>
    public SortedDictionary<string, double> LeftOutPerPass { get; set; } = new(StringComparer.Ordinal);

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        return Why is not null
            ? $"not measured ({Why})"
            : $"{RequestsPerPass.ToString("F1", c)} requests per pass over {Passes} passes in {Seconds.ToString("F1", c)} s, {ExaminedPerPass.ToString("F0", c)} sales examined per pass" +
              (Completed ? "" : " (window ended by its time limit)") +
              $"; by kind: {string.Join(", ", ByKindPerPass.Select(kv => $"{kv.Key} {kv.Value.ToString("F1", c)}"))}";
    }
}
