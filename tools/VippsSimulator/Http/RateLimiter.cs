using Microsoft.Extensions.Options;
using VippsSimulator.Hosting;

namespace VippsSimulator.Http;

/// <summary>
/// Vipps' per-reference limits over a sliding minute of the simulator clock: adjustments per reference + MSN (counted
/// per operation), queries per reference + subscription key. Every call counts, replays included, as at a gateway.
/// </summary>
public sealed class RateLimiter(SimulatorClock clock, IOptions<SimulatorOptions> options)
{
    private readonly Dictionary<string, Queue<DateTimeOffset>> _windows = new();

    /// <param name="retryAfter">When refused: how long until the oldest call in the window leaves it (the <c>Retry-After</c> answer).</param>
    public bool TryAcquire(string endpoint, string msn, string subscriptionKey, string reference, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var (limit, key) = endpoint is "get" or "events"
            ? (options.Value.RateLimits.QueriesPerMinute, $"{endpoint}|{subscriptionKey}|{reference}")
            : (options.Value.RateLimits.AdjustmentsPerMinute, $"{endpoint}|{msn}|{reference}");
        var now = clock.GetUtcNow();
        lock (_windows)
        {
            if (!_windows.TryGetValue(key, out var window)) _windows[key] = window = new Queue<DateTimeOffset>();
            while (window.Count > 0 && window.Peek() <= now.AddMinutes(-1)) window.Dequeue();
            if (window.Count >= limit)
            {
                retryAfter = window.Peek().AddMinutes(1) - now;
                return false;
            }
            window.Enqueue(now);
            return true;
        }
    }
}
