using System.Globalization;

namespace LocalRunner;

/// <summary>
/// When a timer function runs: a 6-field NCRONTAB expression (<c>second minute hour day month day-of-week</c>, UTC,
/// as in Azure Functions; a 5-field one runs at second 0) or a fixed interval written as a TimeSpan (<c>00:00:10</c>).
/// Fields take <c>*</c>, numbers, ranges <c>a-b</c>, steps <c>*/n</c> and <c>a-b/n</c>, lists <c>a,b</c>, and
/// month / day names (JAN, MON). Day of month and day of week must both match (NCrontab's rule).
/// </summary>
public sealed class TimerSchedule
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly TimeSpan? _interval;
    private readonly bool[][] _fields = [];

    private TimerSchedule(TimeSpan interval) => _interval = interval;

    private TimerSchedule(bool[][] fields) => _fields = fields;

    public static TimerSchedule Every(TimeSpan interval) =>
        interval > TimeSpan.Zero ? new TimerSchedule(interval) : throw new ArgumentOutOfRangeException(nameof(interval));

    public static TimerSchedule Parse(string expression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        var parts = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 1 && TimeSpan.TryParse(parts[0], CultureInfo.InvariantCulture, out var interval))
        {
            return Every(interval);
        }

        if (parts.Length == 5)
        {
            parts = ["0", .. parts];
        }

        if (parts.Length != 6)
        {
            throw new FormatException($"'{expression}' is neither a 6-field NCRONTAB expression nor a TimeSpan.");
        }

        return new TimerSchedule(
        [
            Field(parts[0], 0, 59, null, expression),
            Field(parts[1], 0, 59, null, expression),
            Field(parts[2], 0, 23, null, expression),
            Field(parts[3], 1, 31, null, expression),
            Field(parts[4], 1, 12, MonthNames, expression),
            DayOfWeek(Field(parts[5], 0, 7, DayNames, expression)),
        ]);
    }

    /// <summary>The first run strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        if (_interval is { } interval)
        {
            return after + interval;
        }

        var start = after.UtcDateTime;
        var t = new DateTime(start.Year, start.Month, start.Day, start.Hour, start.Minute, start.Second, DateTimeKind.Utc).AddSeconds(1);
        var limit = start.AddYears(5);
        while (t <= limit)
        {
            if (!_fields[4][t.Month])
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
            }
            else if (!_fields[3][t.Day] || !_fields[5][(int)t.DayOfWeek])
            {
                t = t.Date.AddDays(1);
            }
            else if (!_fields[2][t.Hour])
            {
                t = t.Date.AddHours(t.Hour + 1);
            }
            else if (!_fields[1][t.Minute])
            {
                t = t.Date.AddHours(t.Hour).AddMinutes(t.Minute + 1);
            }
            else if (!_fields[0][t.Second])
            {
                t = t.AddSeconds(1);
            }
            else
            {
                return new DateTimeOffset(t, TimeSpan.Zero);
            }
        }

        throw new InvalidOperationException("The schedule never fires (e.g. February 30).");
    }

    private static bool[] Field(string text, int min, int max, string[]? names, string expression)
    {
        var allowed = new bool[max + 1];
        foreach (var part in text.Split(','))
        {
            var (range, step) = part.Split('/') switch
            {
                [var r] => (r, 1),
                [var r, var s] when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 => (r, n),
                _ => throw Invalid(expression, part),
            };

            int from, to;
            if (range == "*")
            {
                (from, to) = (min, max);
            }
            else if (range.Split('-') is [var a, var b])
            {
                (from, to) = (Value(a, names, min, expression), Value(b, names, min, expression));
            }
            else
            {
                from = Value(range, names, min, expression);
                to = step > 1 ? max : from;
            }

            if (from < min || to > max || from > to)
            {
                throw Invalid(expression, part);
            }

            for (var v = from; v <= to; v += step)
            {
                allowed[v] = true;
            }
        }

        return allowed;
    }

    private static int Value(string text, string[]? names, int offset, string expression)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        var index = names is null ? -1 : Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        return index >= 0 ? index + offset : throw Invalid(expression, text);
    }

    // 7 is Sunday too.
    private static bool[] DayOfWeek(bool[] days)
    {
        days[0] |= days[7];
        return days;
    }

    private static FormatException Invalid(string expression, string part) => new($"'{part}' in the schedule '{expression}' is not valid.");
}
