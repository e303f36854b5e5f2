namespace VippsSimulator.Hosting;

/// <summary>
/// The simulator's notion of "now": an inner clock (the system clock, or one a test passes in) plus an offset that
/// <c>POST /_sim/clock/advance</c> moves forward, so expiry and token lifetime can be tested without waiting.
/// Timers are not shifted: retry backoff and the sweep interval run on real time and are compressed by configuration instead.
/// </summary>
public sealed class SimulatorClock(TimeProvider inner) : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    /// <summary>The inner clock without the advanced offset: what a receiver's own clock shows.</summary>
    public DateTimeOffset UnshiftedUtcNow() => inner.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), "The simulator clock only moves forward.");
        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }
}
