using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace FunctionsHost.Tests;

/// <summary>Figures, not timed asserts: how long the worker takes to start under the host, and what a request through
/// the host and the worker costs (docs/local-runner.md records a run). The asserts only check every answer was right.</summary>
public sealed class HostFigures(ITestOutputHelper output)
{
    [Fact]
    public async Task Prints_worker_start_time_and_request_latency_through_the_worker()
    {
        var started = Stopwatch.StartNew();
        await using var stack = await HostStack.StartAsync();
        var startup = started.Elapsed;

        using var client = stack.Client();
        for (var i = 0; i < 20; i++)
        {
            using var warm = await client.GetAsync("api/health");
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var sequential = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var one = Stopwatch.StartNew();
            using var response = await client.GetAsync("api/health");
            sequential.Add(one.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        const int Parallel = 8;
        const int PerWorker = 100;
        var burst = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Parallel).Select(async _ =>
        {
            for (var i = 0; i < PerWorker; i++)
            {
                using var response = await client.GetAsync("api/health");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));
        var throughput = Parallel * PerWorker / burst.Elapsed.TotalSeconds;

        sequential.Sort();
        output.WriteLine($"host + worker start (Azurite, simulator and webhook registration included): {startup.TotalSeconds:0.00} s");
        output.WriteLine($"GET /api/health through host and worker, 300 sequential: p50 {Percentile(sequential, 0.50):0.00} ms, p95 {Percentile(sequential, 0.95):0.00} ms, max {sequential[^1]:0.00} ms");
        output.WriteLine($"GET /api/health, {Parallel} concurrent clients x {PerWorker}: {throughput:0} requests/s");
    }

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
