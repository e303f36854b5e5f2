using System.Globalization;

namespace LoadTest;

/// <summary>
/// Where the latency tail comes from (issue 13): the approval's legs, the CPU each process used during the drive,
/// Azurite's own latency per request as the counting proxy saw it, and what the local host answers for a function
/// that does nothing (the ceiling the webhook burst is judged against). Figures, never assertions.
/// </summary>
public sealed class LatencyDiagnostics
{
    public ApprovalBreakdown? Approval { get; set; }

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
