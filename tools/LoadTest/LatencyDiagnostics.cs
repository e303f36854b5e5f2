using System.Globalization;

namespace LoadTest;

/// <summary>A span of wall-clock time (UTC).</summary>
public sealed record TimeWindow(DateTimeOffset From, DateTimeOffset To)
{
    public bool Overlaps(DateTimeOffset from, DateTimeOffset to) => from <= To && to >= From;

    public double Seconds => (To - From).TotalSeconds;
}

/// <summary>
/// Where the latency tail comes from (issue 13): the approval's legs, the CPU each process used during the drive,
/// Azurite's own latency per request as the counting proxy saw it, and what the local host answers for a function
/// that does nothing (the ceiling the webhook burst is judged against). Figures, never assertions.
/// </summary>
public sealed class LatencyDiagnostics
{
    public ApprovalBreakdown? Approval { get; set; }

    /// <summary>Sales whose AUTHORIZED webhook was dropped, timed from the later of approve and the first moment the
    /// product may poll Vipps (its create request + 5 s, Vipps' polling guidance): the harness' customers approve
    /// 0.2-1.5 s after the QR appears, far sooner than people do, so the raw figure mostly measures that guidance.</summary>
    public LatencySummary? DroppedFromPollAllowed { get; set; }

    /// <summary>When an instance was down: killed until its replacement answered its health check.</summary>
    public List<TimeWindow> RestartWindows { get; } = [];

    /// <summary>Create (201) split at the moment the simulator created the payment: our claim and insert, the token and
    /// Vipps' faults and retries before it; the commit of the payment and the answer's way back after it.</summary>
    public LatencySummary? CreateUntilVippsCreated { get; set; }

    public LatencySummary? CreateAfterVippsCreated { get; set; }

    /// <summary>CPU per kind of process over the drive (and its converge).</summary>
    public CpuFigures? DriveCpu { get; set; }

    /// <summary>Each table request through the counting proxy during the drive.</summary>
    public LatencySummary? DriveTableRequest { get; set; }

    public LatencySummary? DriveQueueRequest { get; set; }

    /// <summary>CPU per kind of process during the webhook burst.</summary>
    public CpuFigures? BurstCpu { get; set; }

    /// <summary><c>GET /api/health</c> (no storage, no Vipps) sent as many at once as the burst's webhooks: the host +
    /// worker's ceiling for a trivial function on this machine, per second.</summary>
    public double HealthBurstPerSecond { get; set; }

    public LatencySummary? HealthBurstRequest { get; set; }

    public int HealthBurstCount { get; set; }

    /// <summary>For <see cref="DroppedFromPollAllowed"/>: each of <paramref name="dropped"/>'s approvals, timed from the
    /// later of approve and create + <paramref name="pollAfter"/>.</summary>
    public static LatencySummary FromPollAllowed(IEnumerable<SaleRecord> records, IReadOnlySet<string> dropped, TimeSpan pollAfter)
    {
        var latency = new LatencyRecorder();
        foreach (var record in records)
        {
            if (record is { Reference: { } reference, ApprovedAt: { } approved, ApprovalAnsweredAt: { } answered, CreateStartedAt: { } created } && dropped.Contains(reference))
            {
                var from = created + pollAfter > approved ? created + pollAfter : approved;
                latency.Add(answered - from);
            }
        }

        return latency.Summarize();
    }

    /// <summary>Splits each 201 create at <paramref name="createdAt"/> (the simulator's payment creation time).</summary>
    public static (LatencySummary Before, LatencySummary After) CreateLegs(IEnumerable<SaleRecord> records, Func<string, DateTimeOffset?> createdAt)
    {
        var (before, after) = (new LatencyRecorder(), new LatencyRecorder());
        foreach (var record in records)
        {
            if (record is { Reference: { } reference, CreateStartedAt: { } started, CreateAnsweredAt: { } answered } && createdAt(reference) is { } created
                && created >= started && created <= answered)
            {
                before.Add(created - started);
                after.Add(answered - created);
            }
        }

        return (before.Summarize(), after.Summarize());
    }

    public void WriteText(Action<string> line)
    {
        var c = CultureInfo.InvariantCulture;
        if (Approval is { } approval)
        {
            foreach (var text in approval.Lines())
            {
                line(text);
            }
        }

        if (DroppedFromPollAllowed is { } dropped)
        {
            line($"   AUTHORIZED webhook dropped, from the later of approve and create + 5 s (first poll Vipps allows): {dropped}");
        }

        if (RestartWindows.Count > 0)
        {
            line($"   instance down (killed until healthy again): {string.Join(", ", RestartWindows.Select(w => $"{w.Seconds.ToString("F1", c)} s from {w.From:HH:mm:ss.fff}"))}");
        }

        if (CreateUntilVippsCreated is { } before)
        {
            line($"Create legs: request -> Vipps created the payment {before}; -> 201 answered {CreateAfterVippsCreated}");
        }

        if (DriveCpu is { } cpu)
        {
            line($"CPU during the drive (cores, average): {cpu}");
        }

        if (DriveTableRequest is { } table)
        {
            line($"Azurite per request during the drive (through the counting proxy): table {table}; queue {DriveQueueRequest}");
        }

        if (HealthBurstCount > 0)
        {
            line($"Trivial-function ceiling: {HealthBurstCount} GET /api/health at once answered at {HealthBurstPerSecond.ToString("F0", c)}/s (request {HealthBurstRequest})");
        }

        if (BurstCpu is { } burst)
        {
            line($"CPU during the webhook burst (cores, average): {burst}");
        }
    }
}
