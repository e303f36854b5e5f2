using LoadTest;
using Xunit.Abstractions;

namespace LoadTest.Tests;

/// <summary>
/// The harness in small: 3 machines x 3 sales over real HTTP, with Vipps faults, half the webhooks dropped, and the
/// runner process killed and restarted mid-run; once with one instance, once with three behind the round-robin front
/// (one of them killed). Asserts the money invariants and that the run really went through the
/// paths it claims (a restart, dropped webhooks, a crash the reconciler released); no timings.
/// </summary>
public sealed class ChaosRunTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Every_sale_settles_with_money_matching_deliveries_through_faults_and_a_runner_crash(int instances)
    {
        var options = new LoadOptions
        {
            Instances = instances,
            Machines = 3,
            SalesPerMachine = 3,
            Faults = true,
            Seed = 7,
            RotateScenarios = true,
            WebhookDropRate = 0.5,
            RestartAtFraction = 0.4,
            BurstSales = 4,
            CalibrationSales = 0,
            BaselineInserts = 0,
            PaymentExpirySeconds = 6,
            ConvergeTimeout = TimeSpan.FromSeconds(90),
            Log = line => output.WriteLine(line),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var report = await LoadHarness.RunAsync(options, timeout.Token);
        output.WriteLine(report.ToText());

        Assert.True(report.Violations.Count == 0, string.Join(Environment.NewLine, report.Violations));
        Assert.Equal(1, report.Runner.Restarts);
        Assert.Equal(13, report.Sales.Total);
        Assert.Equal(report.Sales.Total, report.Sales.Final);

        // The run went where it says it went: dropped webhooks, a crashed machine released by the reconciler,
        // deliveries captured, an abort and a walk-away ended without money.
        Assert.True(report.Webhooks.Dropped > 0, "no webhook was dropped");
        var crashed = report.Records.Single(r => r.Phase == "drive" && r.Scenario is { Customer: CustomerAction.Approve, Machine: MachineAction.Crash });
        Assert.True(crashed.SawAuthorization, "the crashing machine never saw its sale authorized");
        Assert.False(crashed.VendAccepted);
        Assert.True(report.Sales.ByState.GetValueOrDefault("Captured") >= 3, "fewer than 3 sales were captured");
        Assert.True(report.Sales.ByState.GetValueOrDefault("Aborted") + report.Sales.ByState.GetValueOrDefault("Expired") >= 1);

        // Every measured approval whose AUTHORIZED webhook was delivered or dropped is in one of the two classes.
        var classified = report.ApprovalWebhookDelivered.Count + report.ApprovalWebhookDropped.Count;
        Assert.InRange(classified, 1, report.ApprovalToMachine.Count);

        // With several instances every measured approval is classified by where its webhook landed and its poll ran.
        Assert.Equal(instances, report.Run.Instances);
        if (instances > 1)
        {
            Assert.True(report.ApprovalSameInstance!.Count + report.ApprovalCrossInstance!.Count > 0, "no approval was classified by instance");
        }
        else
        {
            Assert.Null(report.ApprovalSameInstance);
        }
    }
}
