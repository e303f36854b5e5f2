using FunctionsHost.Triggers;

namespace FunctionsHost.Tests;

public sealed class TimerScheduleTests
{
    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("*/10 * * * * *", "2025-11-26T12:00:03Z", "2025-11-26T12:00:10Z")]
    [InlineData("*/10 * * * * *", "2025-11-26T12:00:10Z", "2025-11-26T12:00:20Z")]
    [InlineData("*/10 * * * * *", "2025-11-26T12:00:55.5Z", "2025-11-26T12:01:00Z")]
    [InlineData("0 */1 * * * *", "2025-11-26T12:00:00Z", "2025-11-26T12:01:00Z")]
    [InlineData("0 */5 * * * *", "2025-11-26T12:03:30Z", "2025-11-26T12:05:00Z")]
    [InlineData("30 15 9 * * *", "2025-11-26T09:15:30Z", "2025-11-27T09:15:30Z")]
    [InlineData("0 0 9 * * MON-FRI", "2025-11-28T10:00:00Z", "2025-12-01T09:00:00Z")]
    [InlineData("0 0 0 1 JAN *", "2025-11-26T00:00:00Z", "2026-01-01T00:00:00Z")]
    [InlineData("0 0,30 * * * *", "2025-11-26T12:10:00Z", "2025-11-26T12:30:00Z")]
    [InlineData("5-7 * * * * *", "2025-11-26T12:00:07Z", "2025-11-26T12:01:05Z")]
    [InlineData("*/15 * * * *", "2025-11-26T12:01:00Z", "2025-11-26T12:15:00Z")]
    [InlineData("00:00:07", "2025-11-26T12:00:00Z", "2025-11-26T12:00:07Z")]
    public void Next_occurrence(string expression, string after, string expected)
    {
        Assert.Equal(At(expected), TimerSchedule.Parse(expression).Next(At(after)));
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("61 * * * * *")]
    [InlineData("*/0 * * * * *")]
    [InlineData("a * * * * *")]
    [InlineData("5-2 * * * * *")]
    public void Invalid_expressions_are_refused(string expression)
    {
        Assert.Throws<FormatException>(() => TimerSchedule.Parse(expression));
    }

    [Fact]
    public void An_impossible_date_never_fires()
    {
        Assert.Throws<InvalidOperationException>(() => TimerSchedule.Parse("0 0 0 30 2 *").Next(At("2025-01-01T00:00:00Z")));
    }

    [Fact]
    public void A_plan_is_kept_unless_the_clock_stepped_back_past_it()
    {
        var schedule = TimerSchedule.Parse("*/10 * * * * *");
        var now = At("2025-01-01T00:00:05Z");

        // Planned on the same clock: kept as it is.
        Assert.Equal(At("2025-01-01T00:00:10Z"), schedule.Due(At("2025-01-01T00:00:10Z"), now));
        // Planned on a clock 12 minutes ahead that then stepped back: the next run from now, not 12 minutes away.
        Assert.Equal(At("2025-01-01T00:00:10Z"), schedule.Due(At("2025-01-01T00:12:10Z"), now));
    }
}
