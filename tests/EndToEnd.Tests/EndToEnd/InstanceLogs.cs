using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>One log record of the app, as its instance wrote it: level, category, and the rest of the line (the
/// formatted message, the scopes' values when written, the exception's type and message when there is one).</summary>
public sealed record CapturedLog(string Instance, LogLevel Level, string Category, string Message, string Line)
{
    /// <summary>Everything a log sink received for this record (the whole line).</summary>
    public string AllText => Line;

    public override string ToString() => $"{Instance} {Line}";
}

/// <summary>
/// The app's log, read from the files its instances write (<c>app-{id}.log</c> in the stack's work directory, every
/// instance and every restart), not from inside the app: the app runs in a child process. The contract with the
/// host: one line per log record, <c>{level}: {category}[{event id}] {message}</c> (the console logger's single-line
/// format, asked for with <c>Logging:Console:FormatterName</c> = simple and
/// <c>Logging:Console:FormatterOptions:SingleLine</c>; the exception's text follows on the same
/// line). Lines in any other shape (the host's own start markers, a crash dump) are kept as <see cref="Lines"/>, so a
/// secret written anywhere in a log file is still found.
/// </summary>
public sealed partial class InstanceLogs(Func<string> workDirectory)
{
    private readonly Dictionary<string, LogFile> _files = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The settings that make an instance write one line per record (what an operator would also set to grep a
    /// log file).</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        // The formatter must be named: without a name the console logger does not read FormatterOptions.
        ["Logging:Console:FormatterName"] = "simple",
        ["Logging:Console:FormatterOptions:SingleLine"] = "true",
        ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
        ["Logging:Console:FormatterOptions:ColorBehavior"] = "Disabled",
    };

    /// <summary>Every log record so far, in file order per instance.</summary>
    public IReadOnlyList<CapturedLog> Entries
    {
        get
        {
            lock (_lock)
            {
                Refresh();
                return _files.Values.SelectMany(f => f.Entries).ToList();
            }
        }
    }

    /// <summary>Every line of every instance's log file, records or not.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                Refresh();
                return _files.Values.SelectMany(f => f.Lines).ToList();
            }
        }
    }

    /// <summary>The records whose line contains <paramref name="text"/>.</summary>
    public IReadOnlyList<CapturedLog> Containing(string text) =>
        Entries.Where(e => e.Line.Contains(text, StringComparison.Ordinal)).ToList();

    /// <summary>The lines (records or not) that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> LinesContaining(string text) =>
        Lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();

    private void Refresh()
    {
        var directory = workDirectory();
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var path in Directory.GetFiles(directory, "app-*.log"))
        {
            if (!_files.TryGetValue(path, out var file))
            {
                var instance = Path.GetFileNameWithoutExtension(path)["app-".Length..];
                _files[path] = file = new LogFile(path, instance);
            }

            file.ReadNew();
        }
    }

    [GeneratedRegex(@"^(?<level>trce|dbug|info|warn|fail|crit): (?<category>[^\s\[]+)\[(?<event>-?\d+)\]\s?(?<message>.*)$")]
    private static partial Regex RecordLine();

    private static LogLevel LevelOf(string level) => level switch
    {
        "trce" => LogLevel.Trace,
        "dbug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "fail" => LogLevel.Error,
        _ => LogLevel.Critical,
    };

    // Reads what was appended since the last read; a line is taken only once its newline is written.
    private sealed class LogFile(string path, string instance)
    {
        private long _offset;

        public List<CapturedLog> Entries { get; } = [];

        public List<string> Lines { get; } = [];

        public void ReadNew()
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length <= _offset)
            {
                return;
            }

            stream.Seek(_offset, SeekOrigin.Begin);
            var buffer = new byte[stream.Length - _offset];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            // Only whole lines: a UTF-8 character is never split across the last newline.
            var end = Array.LastIndexOf(buffer, (byte)'\n', read - 1);
            if (end < 0)
            {
                return;
            }

            _offset += end + 1;
            foreach (var raw in Encoding.UTF8.GetString(buffer, 0, end).Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                Lines.Add(line);
                if (RecordLine().Match(line) is { Success: true } match)
                {
                    Entries.Add(new CapturedLog(instance, LevelOf(match.Groups["level"].Value), match.Groups["category"].Value, match.Groups["message"].Value, line));
                }
            }
        }
    }
}
