using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace FunctionsHost.Logging;

/// <summary>
/// One log record as one line, as the console's simple formatter writes it with <c>SingleLine</c> on:
/// <c>{info|warn|fail|crit|dbug|trce}: {Category}[{EventId}] {message} {exception's ToString()}</c>, line breaks inside
/// written as spaces. The host's console and its log file (<see cref="FunctionsHostOptions.LogPath"/>) both use it, the
/// worker's RpcLog records included, so a test or an operator can read an instance's log as text, one record per line.
/// </summary>
public static class LogLine
{
    public static string Format(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var text = exception is null ? message : $"{message} {exception}";
        text = text.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ').Replace('\r', ' ');
        return string.Create(CultureInfo.InvariantCulture, $"{Abbreviation(level)}: {category}[{eventId.Id}] {text}");
    }

    private static string Abbreviation(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}

/// <summary>Appends every record to one file in <see cref="LogLine"/>'s format (flushed per line: a killed host loses nothing written).</summary>
internal sealed class LineFileLoggerProvider : ILoggerProvider
{
    private readonly StreamWriter _writer;

    public LineFileLoggerProvider(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    private void Write(string line)
    {
        lock (_writer)
        {
            try
            {
                _writer.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // A record logged while the host shuts down.
            }
        }
    }

    public void Dispose()
    {
        lock (_writer)
        {
            _writer.Dispose();
        }
    }

    private sealed class Logger(LineFileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => NullLogger.Instance.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(LogLine.Format(logLevel, category, eventId, formatter(state, exception), exception));
            }
        }
    }
}

internal static class LineLoggingExtensions
{
    /// <summary>The console in one-line records (no timestamps, no colours), and the log file when one is configured.</summary>
    public static ILoggingBuilder AddLineLogging(this ILoggingBuilder logging, string? logPath)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        if (!string.IsNullOrEmpty(logPath))
        {
            logging.AddProvider(new LineFileLoggerProvider(logPath));
        }

        return logging;
    }
}
