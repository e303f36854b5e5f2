using System.Diagnostics;

namespace LoadTest.Phases;

/// <summary>Polls a condition until it holds or a deadline passes: the harness never sleeps a fixed time for an outcome.</summary>
internal static class Wait
{
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }
}
