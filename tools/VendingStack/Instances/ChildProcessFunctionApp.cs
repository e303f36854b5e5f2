using System.Diagnostics;
using System.Globalization;

namespace Vending.Stack.Instances;

/// <summary>
/// The local runner (the Function App's HTTP, queue and timer functions) as a child process, so a test or the harness
/// can kill it like a crash (SIGKILL, no draining) and start it again on the same port. Its settings go in as environment variables
/// (<c>Key__Sub</c>); its output goes to a log file, not a pipe that could fill up. Samples VmHWM / VmRSS from
/// /proc while it runs and keeps the highest value over every incarnation.
/// </summary>
public sealed class ChildProcessFunctionApp : IFunctionAppInstance
{
    private readonly string _dll;
    private readonly FunctionAppInstanceSpec _spec;
    private readonly string _logPath;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private Process? _process;
    private CancellationTokenSource? _sampling;
    private Task? _sampler;
    private long _peakHwmKb;
    private long _peakRssKb;

    public ChildProcessFunctionApp(FunctionAppInstanceSpec spec, string dll)
    {
        if (spec.ConfigureServices is not null)
        {
            throw new ArgumentException("A child process cannot take service registrations of this process; host the instance in process.", nameof(spec));
        }

        _dll = dll;
        _spec = spec;
        Url = spec.BaseUrl.ToString().TrimEnd('/');
        _logPath = spec.LogPath;
    }

    public string Id => _spec.Id;

    public Uri BaseUrl => _spec.BaseUrl;

    public string Url { get; }

    public bool IsRunning => _process is { HasExited: false };

    public IServiceProvider? Services => null;

    /// <summary>Where its standard output and error go (appended across restarts).</summary>
    public string LogPath => _logPath;

    public int Starts { get; private set; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Highest VmHWM (peak resident set) of any incarnation, in bytes; null where /proc is not available.</summary>
    public long? PeakMemoryBytes => Interlocked.Read(ref _peakHwmKb) is > 0 and var kb ? kb * 1024 : null;

    public long? PeakRssBytes => Interlocked.Read(ref _peakRssKb) is > 0 and var kb ? kb * 1024 : null;

    /// <summary>The runner dll of the same configuration as the caller (Release under <c>dotnet run -c Release</c>, Debug under tests).</summary>
    public static string FindRunnerDll()
    {
        var repositoryRoot = Vending.Testing.Azurite.RepositoryRoot();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Release";
        var candidates = new[] { configuration, "Release", "Debug" }
            .Select(c => Path.Combine(repositoryRoot, "tools", "LocalRunner", "bin", c, "net10.0", "LocalRunner.dll"))
            .Where(File.Exists)
            .ToList();
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException($"LocalRunner.dll not found under tools/LocalRunner/bin/{configuration}/net10.0: build the caller (it builds the runner first).");
    }

    public Task StartAsync(CancellationToken cancellationToken) => StartAsync(TimeSpan.FromSeconds(90), cancellationToken);

    public Task StopAsync() => KillAsync();

    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The runner is already running.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(_dll)!,
        };
        start.ArgumentList.Add(_dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(Url);
        foreach (var (key, value) in _spec.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = _spec.EnvironmentName;

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var log = new StreamWriter(new FileStream(_logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        await log.WriteLineAsync($"---- start {Starts + 1} at {DateTimeOffset.UtcNow:O}");
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Exited += (_, _) => log.Dispose();
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Starts++;

        _sampling = new CancellationTokenSource();
        _sampler = SampleMemoryAsync(process, _sampling.Token);

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The runner exited with code {process.ExitCode} while starting; see {_logPath}.");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri($"{Url}/api/health"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"The runner did not answer /api/health within {timeout.TotalSeconds:F0} s; see {_logPath}.");
    }

    /// <summary>A crash: SIGKILL, no graceful shutdown, in-flight requests and queue messages left as they are.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        SampleOnce(process);
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (InvalidOperationException)
        {
        }

        await StopSamplingAsync();
        process.Dispose();
        _process = null;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        try
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task SampleMemoryAsync(Process process, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested && !process.HasExited)
            {
                SampleOnce(process);
                await Task.Delay(250, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void SampleOnce(Process process)
    {
        try
        {
            var status = $"/proc/{process.Id}/status";
            if (!File.Exists(status))
            {
                return;
            }

            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    Raise(ref _peakHwmKb, Kilobytes(line));
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    Raise(ref _peakRssKb, Kilobytes(line));
                }
            }
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // The process went away between the check and the read.
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static void Raise(ref long peak, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, value, current) != current)
        {
        }
    }

    private async Task StopSamplingAsync()
    {
        if (_sampling is null)
        {
            return;
        }

        await _sampling.CancelAsync();
        if (_sampler is not null)
        {
            await _sampler;
        }

        _sampling.Dispose();
        _sampling = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _http.Dispose();
    }
}
