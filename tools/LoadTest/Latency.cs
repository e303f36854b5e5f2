namespace LoadTest;

/// <summary>A thread-safe list of samples in milliseconds with nearest-rank percentiles.</summary>
public sealed class LatencyRecorder
{
    private readonly List<double> _samples = new();

    public void Add(TimeSpan elapsed)
    {
        lock (_samples)
        {
            _samples.Add(elapsed.TotalMilliseconds);
        }
    }

    /// <summary>Drops every sample so far: the next summary covers only what follows (a phase's window).</summary>
    public void Clear()
    {
        lock (_samples)
        {
            _samples.Clear();
        }
    }

    public LatencySummary Summarize()
    {
        double[] sorted;
        lock (_samples)
        {
            sorted = [.. _samples];
        }

        Array.Sort(sorted);
        return LatencySummary.Of(sorted);
    }
}

public sealed record LatencySummary(int Count, double P50, double P95, double P99, double Max)
{
    public static LatencySummary Of(double[] sorted) => sorted.Length == 0
        ? new LatencySummary(0, 0, 0, 0, 0)
        : new LatencySummary(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99), sorted[^1]);

    /// <summary>Nearest rank: the smallest sample with at least p of the samples at or below it.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    public override string ToString() => Count == 0
        ? "no samples"
        : $"p50 {P50:F0} ms, p95 {P95:F0} ms, p99 {P99:F0} ms, max {Max:F0} ms (n={Count})";
}
