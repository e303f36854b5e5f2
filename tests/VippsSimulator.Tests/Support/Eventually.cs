namespace VippsSimulator.Tests.Support;

/// <summary>Polls a condition until it holds or a generous deadline passes (no fixed sleeps as synchronization).</summary>
public static class Eventually
{
    public static async Task<T> Until<T>(Func<T> read, Func<T, bool> done, string what, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
