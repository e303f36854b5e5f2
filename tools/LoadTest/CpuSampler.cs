using System.Globalization;

namespace LoadTest;

/// <summary>
/// CPU used by each kind of process while it runs (the drive): every second it reads utime + stime of every process
/// in <c>/proc</c> and adds each one's growth to its kind, so a process that dies (the killed instance) keeps what
/// it used. Kinds by command line: this harness (it hosts the simulator, the storage proxy and the front too), the
/// Functions host, the isolated worker, Azurite, and everything else (other people's builds on the shared machine).
/// Also the load average and this process' thread pool (queue length, threads), to tell starvation from saturation.
/// Linux only; elsewhere it reports nothing.
/// </summary>
public sealed class CpuSampler : IAsyncDisposable
{
    public const string Harness = "harness (+ simulator, proxy, front)";
    public const string Host = "Functions host";
    public const string Worker = "isolated worker";
    public const string Azurite = "Azurite";
    public const string Other = "other processes";

    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux .NET runs on

    private readonly Dictionary<int, (string Kind, long Ticks)> _last = new();
    private readonly Dictionary<string, long> _ticks = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly Task _loop;
    private double _loadMax;
    private long _poolQueueMax;
    private int _poolThreadsMax;

    private CpuSampler()
    {
        Sample(firstPass: true);
        _loop = LoopAsync();
    }

    public static CpuSampler Start() => new();

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token);
                Sample(firstPass: false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Sample(bool firstPass)
    {
        _poolQueueMax = Math.Max(_poolQueueMax, ThreadPool.PendingWorkItemCount);
        _poolThreadsMax = Math.Max(_poolThreadsMax, ThreadPool.ThreadCount);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            _loadMax = Math.Max(_loadMax, double.Parse(load, CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || ReadTicks(pid) is not { } ticks)
            {
                continue;
            }

            lock (_ticks)
            {
                if (_last.TryGetValue(pid, out var last))
                {
                    _ticks[last.Kind] = _ticks.GetValueOrDefault(last.Kind) + Math.Max(0, ticks - last.Ticks);
                    _last[pid] = (last.Kind, ticks);
                }
                else
                {
                    // A process born since the last pass counts from its start; one already running, from now.
                    var kind = KindOf(pid);
                    _last[pid] = (kind, firstPass ? ticks : 0);
                    if (!firstPass)
                    {
                        _ticks[kind] = _ticks.GetValueOrDefault(kind) + ticks;
                    }
                }
            }
        }
    }

    private static long? ReadTicks(int pid)
    {
        try
        {
            // Fields after the command (which may hold spaces) start after the last ')'; utime and stime are 14 and 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static string KindOf(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return Harness;
        }

        string command;
        try
        {
            command = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Other;
        }

        return command switch
        {
            _ when command.Contains("FunctionsHost.dll", StringComparison.Ordinal) => Host,
            _ when command.Contains("VendingFunctions.dll", StringComparison.Ordinal) || command.Contains("/VendingFunctions ", StringComparison.Ordinal) => Worker,
            _ when command.Contains("azurite", StringComparison.OrdinalIgnoreCase) => Azurite,
            _ => Other,
        };
    }

    /// <summary>Cores used on average per kind since the start, the load average's peak, the harness' thread pool.</summary>
    public async Task<CpuFigures> StopAsync()
    {
        Sample(firstPass: false);
        await _stop.CancelAsync();
        await _loop;
        var seconds = Math.Max(0.001, _clock.Elapsed.TotalSeconds);
        lock (_ticks)
        {
            return new CpuFigures
            {
                Seconds = seconds,
                CoresByKind = new SortedDictionary<string, double>(
                    _ticks.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value / TicksPerSecond / seconds, 2)), StringComparer.Ordinal),
                LoadAverageMax = _loadMax,
                HarnessThreadPoolQueueMax = _poolQueueMax,
                HarnessThreadPoolThreadsMax = _poolThreadsMax,
            };
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await _loop;
        }

        _stop.Dispose();
    }
}

/// <summary>What <see cref="CpuSampler"/> saw over a window.</summary>
public sealed class CpuFigures
{
    public double Seconds { get; init; }

    /// <summary>Average cores used by each kind of process over the window (2.0 = both cores of this machine).</summary>
    public SortedDictionary<string, double> CoresByKind { get; init; } = new(StringComparer.Ordinal);

    public double LoadAverageMax { get; init; }

    public long HarnessThreadPoolQueueMax { get; init; }

    public int HarnessThreadPoolThreadsMax { get; init; }

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        return $"{string.Join(", ", CoresByKind.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value.ToString("F2", c)}"))} " +
               $"(total {CoresByKind.Values.Sum().ToString("F2", c)} of {Environment.ProcessorCount} cores, over {Seconds.ToString("F0", c)} s); " +
               $"1-min load average up to {LoadAverageMax.ToString("F1", c)}; harness thread pool: queue up to {HarnessThreadPoolQueueMax}, threads up to {HarnessThreadPoolThreadsMax}";
    }
}
