using System.Globalization;
using NCrontab;

namespace FunctionsHost.Triggers;

/// <summary>
/// When a timer function runs: a 6-field NCRONTAB expression (<c>second minute hour day month day-of-week</c>, UTC,
/// as in Azure Functions; a 5-field one runs at second 0) or a fixed interval written as a TimeSpan (<c>00:00:10</c>).
/// Parsed by NCrontab.Signed, the library the Functions host itself uses, so a schedule means here what it means in Azure.
/// </summary>
internal sealed class TimerSchedule
{
    // Far enough to find any real schedule (a yearly one, a leap day), near enough to give up on one that never fires.
    private static readonly TimeSpan SearchHorizon = TimeSpan.FromDays(5 * 366);

    private readonly TimeSpan? _interval;
    private readonly CrontabSchedule? _cron;

    private TimerSchedule(TimeSpan interval) => _interval = interval;

    private TimerSchedule(CrontabSchedule cron) => _cron = cron;

    public static TimerSchedule Every(TimeSpan interval) =>
        interval > TimeSpan.Zero ? new TimerSchedule(interval) : throw new ArgumentOutOfRangeException(nameof(interval));

    /// <exception cref="FormatException">Neither a TimeSpan nor a valid 5- or 6-field NCRONTAB expression.</exception>
    public static TimerSchedule Parse(string expression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        var parts = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 1 && TimeSpan.TryParse(parts[0], CultureInfo.InvariantCulture, out var interval))
        {
            return Every(interval);
        }

        if (parts.Length is not (5 or 6))
        {
            throw new FormatException($"'{expression}' is neither a 6-field NCRONTAB expression nor a TimeSpan.");
        }

        if (parts.Any(IsSurprising))
        {
            throw new FormatException($"The schedule '{expression}' has a step of 0 or a reversed range.");
        }

        // As the Functions host: six fields include seconds; five are the classic crontab (at second 0).
        var cron = CrontabSchedule.TryParse(string.Join(' ', parts), new CrontabSchedule.ParseOptions { IncludingSeconds = parts.Length == 6 });
        return cron is null
            ? throw new FormatException($"The schedule '{expression}' is not a valid NCRONTAB expression.")
            : new TimerSchedule(cron);
    }

    // NCrontab (and so Azure) reads "*/0" as every second and "5-2" as "2-5": both are mistakes in a schedule we write,
    // refused here so they are found locally instead of running far more often than meant in Azure.
    private static bool IsSurprising(string field) =>
        field.Split(',').Any(part =>
        {
            var pieces = part.Split('/');
            if (pieces.Length == 2 && int.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step == 0)
            {
                return true;
            }

            return pieces[0].Split('-') is [var from, var to]
                && int.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                && int.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var b)
                && a > b;
        });

    /// <summary>
    /// When a run planned for <paramref name="planned"/> is due, seen at <paramref name="now"/>: the plan, unless the
    /// clock stepped back since it was made (an NTP correction, a test's shifted clock); then the schedule's next run
    /// from now, so the step never postpones the timer by its size.
    /// </summary>
    public DateTimeOffset Due(DateTimeOffset planned, DateTimeOffset now) => Next(now) is var fromNow && planned > fromNow ? fromNow : planned;

    /// <summary>The first run strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        if (_interval is { } interval)
        {
            return after + interval;
        }

        var start = after.UtcDateTime;
        var end = start + SearchHorizon;
        var next = _cron!.GetNextOccurrence(start, end);
        return next < end
            ? new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc), TimeSpan.Zero)
            : throw new InvalidOperationException("The schedule never fires (e.g. February 30).");
    }
}
