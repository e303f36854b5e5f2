using System.Diagnostics;
using System.Globalization;

namespace Vending.Stack.Instances;

/// <summary>
/// The local Functions host (tools/FunctionsHost) as a child process, with the Function App as the real isolated worker
/// in its own child process, so a test or the harness can kill both like a crash (SIGKILL to the process tree, no
/// draining) and start them again on the same port. Its settings go in as environment variables (<c>Key__Sub</c>;
/// the host keeps its own <c>FunctionsHost</c> section from the worker); its output, one line per log record (the
/// worker's RpcLog records included), goes to <see cref="LogPath"/>, not a pipe that could fill up. Samples VmHWM /
/// VmRSS of the host and its worker from /proc while they run and keeps, over every incarnation, the highest of each
/// and of their sum. The worker is the host's child process (the host's WorkerSupervisor starts it), so /proc names it
/// without the host having to tell.
/// </summary>
public sealed class ChildProcessFunctionApp : IFunctionAppInstance
{
    private readonly string _dll;
    private readonly FunctionAppInstanceSpec _spec;
    private readonly IReadOnlyDictionary<string, string?> _defaults;
    private readonly string _logPath;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private Process? _process;
    private CancellationTokenSource? _sampling;
    private Task? _sampler;
    private long _peakHwmKb;
    private long _peakHostHwmKb;
    private long _peakWorkerHwmKb;
    private long _peakRssKb;

    /// <param name="defaults">Settings the spec's own override (e.g. where the Function App's build is).</param>
    public ChildProcessFunctionApp(FunctionAppInstanceSpec spec, string dll, IReadOnlyDictionary<string, string?>? defaults = null)
    {
        _dll = dll;
        _spec = spec;
        _defaults = defaults ?? new Dictionary<string, string?>();
        Url = spec.BaseUrl.ToString().TrimEnd('/');
        _logPath = spec.LogPath;
    }

    public string Id => _spec.Id;

    public Uri BaseUrl => _spec.BaseUrl;

    public string Url { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Where its standard output and error go (appended across restarts).</summary>
    public string LogPath => _logPath;

    public int Starts { get; private set; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Highest sum of the host's and its worker's VmHWM (each process's peak resident set) of any incarnation,
    /// in bytes: an upper bound of their peak together; null where /proc is not available.</summary>
    public long? PeakMemoryBytes => Interlocked.Read(ref _peakHwmKb) is > 0 and var kb ? kb * 1024 : null;

    /// <summary>Highest VmHWM of the worker (the host's children: the worker process) of any incarnation, in bytes: the
    /// process that runs the Function App's code in Azure too; null where /proc is not available.</summary>
    public long? PeakWorkerMemoryBytes => Interlocked.Read(ref _peakWorkerHwmKb) is > 0 and var kb ? kb * 1024 : null;

    /// <summary>Highest VmHWM of the local Functions host itself (our stand-in for Azure's), in bytes.</summary>
    public long? PeakHostMemoryBytes => Interlocked.Read(ref _peakHostHwmKb) is > 0 and var kb ? kb * 1024 : null;

    public long? PeakRssBytes => Interlocked.Read(ref _peakRssKb) is > 0 and var kb ? kb * 1024 : null;

    /// <summary>The host dll of the same configuration as the caller (Release under <c>dotnet run -c Release</c>, Debug under tests).</summary>
    public static string FindHostDll()
    {
        var repositoryRoot = Vending.Testing.Azurite.RepositoryRoot();
        return FunctionAppHosting.CallerConfigurations()
            .Select(c => Path.Combine(repositoryRoot, "tools", "FunctionsHost", "bin", c, "net10.0", "FunctionsHost.dll"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("FunctionsHost.dll not found under tools/FunctionsHost/bin/*/net10.0: build the caller (it builds the host first).");
    }

    public Task StartAsync(CancellationToken cancellationToken) => StartAsync(TimeSpan.FromSeconds(90), cancellationToken);

    public Task StopAsync() => KillAsync();

    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The host is already running.");
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
        // Read at every start: the stack can change a setting for the next start (SetAppSetting).
        foreach (var (key, value) in _defaults.Where(d => !_spec.Settings.ContainsKey(d.Key)).Concat(_spec.Settings))
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
                throw new InvalidOperationException($"The host exited with code {process.ExitCode} while starting; see {_logPath}.{LastLines()}");
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

        throw new TimeoutException($"The host did not answer /api/health within {timeout.TotalSeconds:F0} s; see {_logPath}.{LastLines()}");
    }

    // The reason a start failed is in the log's last lines (the worker's own words, e.g. a missing setting's name).
    private string LastLines()
    {
        try
        {
            using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return Environment.NewLine + string.Join(Environment.NewLine, lines.TakeLast(15));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>A crash: SIGKILL, no graceful shutdown, in-flight requests and queue messages left as they are.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        SampleOnce(process);
        List<int> workers = process.HasExited ? [] : Children(process.Id);
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

        // The signal reaches the worker at the same time, but only the host is waited for above: a crash is over
        // when the worker has gone too.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (workers.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
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
            if (!File.Exists($"/proc/{process.Id}/status"))
            {
                return;
            }

            // The host, and the worker it started (its children), apart and summed.
            var (hostHwm, hostRss) = ReadMemory(process.Id);
            long workerHwm = 0, workerRss = 0;
            foreach (var pid in Children(process.Id))
            {
                var (hwm, rss) = ReadMemory(pid);
                workerHwm += hwm;
                workerRss += rss;
            }

            Raise(ref _peakHostHwmKb, hostHwm);
            Raise(ref _peakWorkerHwmKb, workerHwm);
            Raise(ref _peakHwmKb, hostHwm + workerHwm);
            Raise(ref _peakRssKb, hostRss + workerRss);
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // The process went away between the check and the read.
        }
    }

    /// <summary>VmHWM and VmRSS of one process in kB (0 when it has gone).</summary>
    private static (long Hwm, long Rss) ReadMemory(int pid)
    {
        long hwm = 0, rss = 0;
        foreach (var line in ReadLinesOrNone($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Kilobytes(line);
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line);
            }
        }

        return (hwm, rss);
    }

    /// <summary>Still running: its /proc entry exists and it is not a zombie (an orphan waits for init to reap it).</summary>
    internal static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static List<int> Children(int pid)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks))
        {
            return [];
        }

        return Directory.EnumerateDirectories(tasks)
            .SelectMany(task => ReadLinesOrNone(Path.Combine(task, "children")))
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(id => int.Parse(id, CultureInfo.InvariantCulture))
            .Distinct()
            .ToList();
    }

    private static string[] ReadLinesOrNone(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return [];
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
