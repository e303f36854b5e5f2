using LoadTest;
using Xunit.Abstractions;

namespace LoadTest.Tests;

/// <summary>
/// The reconciler-scale mode in small, over the real stack: 20 machines, 10 open sales, 3 of them made due by their
/// vend deadline. Asserts that it measured whole passes in every window, that the idle window waited until the sales'
/// first checks were made (its passes examine none), that the due sales were released with nothing captured, and that
/// it counted what a pass reads; the figures themselves are benchmarks, not asserted.
/// </summary>
public sealed class ReconcilerScaleRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Passes_are_measured_idle_and_with_due_sales_and_the_due_sales_are_released()
    {
        var options = new LoadOptions
        {
            ReconcilerScaleMachines = 20,
            ReconcilerScaleOpenSales = 10,
            ReconcilerScaleDue = 3,
            ReconcilerScalePasses = 2,
            Log = line => output.WriteLine(line),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var report = await LoadHarness.RunAsync(options, timeout.Token);
        output.WriteLine(report.ToText());

        Assert.True(report.Violations.Count == 0, string.Join(Environment.NewLine, report.Violations));
        var scale = report.ReconcilerScale!;
        Assert.True(scale.Measured, scale.Why);
        Assert.Equal(0, scale.CreateFailures);
        Assert.True(scale.IdleEmpty!.Why is null && scale.IdleEmpty.Passes >= 2, scale.IdleEmpty.ToString());
        Assert.True(scale.FirstChecks!.Why is null && scale.FirstChecks.Passes >= 2, scale.FirstChecks.ToString());
        Assert.True(scale.IdleSettled, $"the due index still held a row due within the idle window after {scale.IdleSettleSeconds:F0} s");
        Assert.True(scale.Idle!.Why is null && scale.Idle.Passes >= 2, scale.Idle.ToString());
        Assert.True(scale.Idle.RequestsPerPass > 0, "an idle pass read nothing: the proxy or the pass counter is broken");
        // The idle window starts once every first check is made: its passes have nothing to examine.
        Assert.True(scale.Idle.ExaminedPerPass == 0, scale.Idle.ToString());
        Assert.True(scale.Due!.Completed, scale.Due.ToString());
        Assert.Equal(3, scale.DueReleased);
        Assert.Contains(report.Targets, t => t.Name.StartsWith("reconciler idle pass", StringComparison.Ordinal) && t.Met is not null);
    }
}
