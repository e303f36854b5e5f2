using LoadTest.Phases;

namespace LoadTest;

/// <summary>
/// The load and chaos harness as a library: the command line and the xunit test both call <see cref="RunAsync"/>.
/// A run is a sequence of phases (tools/LoadTest/Phases) over one <see cref="RunContext"/>: setup (Azurite, a counting
/// storage proxy, the Vipps simulator in process, N instances of the Function App as child processes it can kill, the
/// drive's machines provisioned over the operator API), the raw Azurite insert-rate baseline, the storage calibration
/// of a happy-path sale, the drive (with faults and an instance crash when asked), the webhook burst, the observation
/// (the money invariants against Vipps' ledger and our tables) and the report's closing figures.
/// </summary>
public static class LoadHarness
{
    /// <summary>The backend's answer to a vend report after the deadline released the reservation.</summary>
    public const string VendReportTooLate = "vend_report_too_late";

    public static async Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ReconcilerScale)
        {
            options.UseReconcilerScaleMode();
        }

        await using var run = new RunContext(options);
        if (options.ReconcilerScale)
        {
            try
            {
                await SetupPhase.RunAsync(run, cancellationToken);
                run.Report.Storage = new StorageFigures { Why = "reconciler-scale mode: no calibration" };
                await ReconcilerScalePhase.RunAsync(run, cancellationToken);
            }
            finally
            {
                run.RecordPeakMemory();
            }

            ReportPhase.Run(run);
            return run.Report;
        }

        try
        {
            await SetupPhase.RunAsync(run, cancellationToken);
            await BaselinePhase.RunAsync(run, cancellationToken);
            await CalibrationPhase.RunAsync(run, cancellationToken);
            await DrivePhase.RunAsync(run, cancellationToken);
            await BurstPhase.RunAsync(run, cancellationToken);
            ObservePhase.CollectLatencies(run);
        }
        finally
        {
            run.RecordPeakMemory();
        }

        await ObservePhase.RunAsync(run, cancellationToken);
        ReportPhase.Run(run);
        return run.Report;
    }
}
