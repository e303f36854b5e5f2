using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace FunctionsHost.Logging;

/// <summary>
/// One log record as one line: <c>{UTC time} {Level} {Category}: {message} {ExceptionType}: {exception message}</c>.
/// The host's console and its log file (<see cref="FunctionsHostOptions.LogPath"/>) both write it, the worker's RpcLog
/// records included, so a test or an operator can read an instance's log as text, one record per line.
/// </summary>
public static class LogLine
{
    public static string Format(DateTimeOffset at, LogLevel level, string category, string message, Exception? exception)
    {
        var text = exception is null ? message : $"{message} {exception.GetType().FullName}: {exception.Message}";
        // A multi-line message (a worker's stack trace) stays on its line.
        text = text.Replace("\r\n", " | ", StringComparison.Ordinal).Replace('\n', ' ').Replace('\r', ' ');
        return string.Create(CultureInfo.InvariantCulture, $"{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {level} {category}: {text}");
    }
}

/// <summary>The console in <see cref="LogLine"/>'s format (formatter name <c>line</c>).</summary>
internal sealed class LineConsoleFormatter() : ConsoleFormatter(Name)
{
    public new const string Name = "line";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        textWriter.WriteLine(LogLine.Format(DateTimeOffset.UtcNow, logEntry.LogLevel, logEntry.Category, message ?? "", logEntry.Exception));
    }
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
                provider.Write(LogLine.Format(DateTimeOffset.UtcNow, logLevel, category, formatter(state, exception), exception));
            }
        }
    }
}

internal static class LineLoggingExtensions
{
    /// <summary>The console in one-line records, and the log file when one is configured.</summary>
    public static ILoggingBuilder AddLineLogging(this ILoggingBuilder logging, string? logPath)
    {
        logging.AddConsole(o => o.FormatterName = LineConsoleFormatter.Name);
        logging.AddConsoleFormatter<LineConsoleFormatter, ConsoleFormatterOptions>();
        if (!string.IsNullOrEmpty(logPath))
        {
            logging.AddProvider(new LineFileLoggerProvider(logPath));
        }

        return logging;
    }
}
