using System.Reflection;
using LocalRunner;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace VendingFunctions.Tests;

/// <summary>The runner's timer loop against a clock that steps back (an NTP correction, or a test that shifts the
/// app's clock forward and then back): the timer keeps its cadence instead of waiting out the step.</summary>
public sealed class TimerTriggerServiceTests
{
    private static readonly List<DateTimeOffset> Runs = [];
    private static readonly ManualResetEventSlim FirstRunMayEnd = new();

    /// <summary>The function the service invokes (static, so no instance is needed).</summary>
    public static class TickFunction
    {
        public static void Tick(TimerInfo timer)
        {
            int count;
            lock (Runs)
            {
                Runs.Add(DateTimeOffset.UtcNow);
                count = Runs.Count;
            }

            // The first run lasts until the test has stepped the clock back, as a reconciler pass that is running
            // while the clock steps: the service planned its next run before the step.
            if (count == 1)
            {
                FirstRunMayEnd.Wait(TimeSpan.FromSeconds(20));
            }
        }
    }

    private sealed class SteppingClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }

    [Fact]
    public async Task A_clock_stepped_back_does_not_postpone_the_next_run_by_the_step()
    {
        var clock = new SteppingClock { Offset = TimeSpan.FromMinutes(12) };
        var method = typeof(TickFunction).GetMethod(nameof(TickFunction.Tick), BindingFlags.Public | BindingFlags.Static)!;
        var function = new TimerFunction("Tick", "*/1 * * * * *", RunOnStartup: true, method);
        using var services = new ServiceCollection().BuildServiceProvider();
        using var service = new TimerTriggerService(function, TimerSchedule.Parse(function.Schedule), services.GetRequiredService<IServiceScopeFactory>(),
            clock, NullLogger<TimerTriggerService>.Instance);

        await service.StartAsync(CancellationToken.None);
        try
        {
            // The first run happens at start, with the clock 12 minutes ahead; its next run was planned on that clock.
            await WaitForRunsAsync(1);
            clock.Offset = TimeSpan.Zero;
            var stepped = DateTimeOffset.UtcNow;
            FirstRunMayEnd.Set();

            // A once-a-second schedule runs again within seconds, not 12 minutes later.
            await WaitForRunsAsync(Count() + 2);
            lock (Runs)
            {
                Assert.True(Runs[^1] - stepped < TimeSpan.FromSeconds(30), $"last run {Runs[^1]:O}, stepped {stepped:O}");
            }
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private static int Count()
    {
        lock (Runs)
        {
            return Runs.Count;
        }
    }

    private static async Task WaitForRunsAsync(int count)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (Count() < count)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"only {Count()} of {count} runs within 30 s");
            await Task.Delay(50);
        }
    }
}
