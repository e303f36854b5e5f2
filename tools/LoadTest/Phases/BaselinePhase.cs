using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;

namespace LoadTest.Phases;

/// <summary>The raw Azurite single-insert rate, sequential and 8-way concurrent: the yardstick for webhook handling.</summary>
internal static class BaselinePhase
{
    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (run.Options.BaselineInserts > 0)
        {
            run.Log("Measuring the raw Azurite single-insert rate ...");
            run.Report.Azurite = await MeasureAzuriteAsync(run, run.Tables, cancellationToken);
        }
    }

    private static async Task<AzuriteBaseline> MeasureAzuriteAsync(RunContext run, TableServiceClient service, CancellationToken cancellationToken)
    {
        var table = service.GetTableClient("LoadBaseline");
        await table.CreateIfNotExistsAsync(cancellationToken);
        await table.AddEntityAsync(new TableEntity("warm", "up"), cancellationToken);
        const int concurrency = 8;

        async Task<(int Count, double Seconds)> LoopAsync(int loops, string prefix)
        {
            var count = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, loops).Select(async loop =>
            {
                var limit = run.Options.BaselineInserts / loops;
                for (var i = 0; i < limit && clock.Elapsed < run.Options.BaselineDuration; i++)
                {
                    await table.AddEntityAsync(new TableEntity($"{prefix}-{loop}", i.ToString("D6", CultureInfo.InvariantCulture))
                    {
                        ["State"] = "Created",
                        ["Amount"] = 7900L,
                        ["At"] = DateTimeOffset.UtcNow,
                    }, cancellationToken);
                    Interlocked.Increment(ref count);
                }
            }));
            return (count, clock.Elapsed.TotalSeconds);
        }

        var sequential = await LoopAsync(1, "seq");
        var concurrent = await LoopAsync(concurrency, "par");
        return new AzuriteBaseline
        {
            SequentialInserts = sequential.Count,
            SequentialPerSecond = sequential.Count / sequential.Seconds,
            Concurrency = concurrency,
            ConcurrentInserts = concurrent.Count,
            ConcurrentPerSecond = concurrent.Count / concurrent.Seconds,
        };
    }
}
