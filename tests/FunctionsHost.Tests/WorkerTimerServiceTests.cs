using FunctionsHost.Triggers;
using FunctionsHost.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace FunctionsHost.Tests;

/// <summary>The host's timer loop against a clock that steps back (an NTP correction, or a test that shifts the clock
/// forward and then back): the timer keeps its cadence instead of waiting out the step. The run itself is a stand-in
/// for the worker's invocation (one class under test; the worker's side is covered by the sale story).</summary>
public sealed class WorkerTimerServiceTests
{
    private readonly List<DateTimeOffset> _runs = [];
    private readonly ManualResetEventSlim _firstRunMayEnd = new();

    private sealed class SteppingClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }

    private Task Run(string timerInfo, CancellationToken cancellationToken)
    {
        Assert.Contains("ScheduleStatus", timerInfo, StringComparison.Ordinal);
        int count;
        lock (_runs)
        {
            _runs.Add(DateTimeOffset.UtcNow);
            count = _runs.Count;
        }

        // The first run lasts until the test has stepped the clock back, as a reconciler pass that is running while
        // the clock steps: the service planned its next run before the step.
        if (count == 1)
        {
            _firstRunMayEnd.Wait(TimeSpan.FromSeconds(20), cancellationToken);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_clock_stepped_back_does_not_postpone_the_next_run_by_the_step()
    {
        var clock = new SteppingClock { Offset = TimeSpan.FromMinutes(12) };
        var function = new WorkerFunction("Tick", "timerTrigger", "timer", null, [], "Anonymous", null, null, "*/1 * * * * *", RunOnStartup: true);
        using var service = new WorkerTimerService(function, TimerSchedule.Parse(function.Schedule!), (info, token) => Task.Run(() => Run(info, token), token),
            clock, NullLogger.Instance);

        await service.StartAsync(CancellationToken.None);
        try
        {
            // The first run happens at start, with the clock 12 minutes ahead; its next run was planned on that clock.
            await WaitForRunsAsync(1);
            clock.Offset = TimeSpan.Zero;
            var stepped = DateTimeOffset.UtcNow;
            _firstRunMayEnd.Set();

            // A once-a-second schedule runs again within seconds, not 12 minutes later.
            await WaitForRunsAsync(Count() + 2);
            lock (_runs)
            {
                Assert.True(_runs[^1] - stepped < TimeSpan.FromSeconds(30), $"last run {_runs[^1]:O}, stepped {stepped:O}");
            }
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private int Count()
    {
        lock (_runs)
        {
            return _runs.Count;
        }
    }

    private async Task WaitForRunsAsync(int count)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (Count() < count)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"only {Count()} of {count} runs within 30 s");
            await Task.Delay(50);
        }
    }
}
