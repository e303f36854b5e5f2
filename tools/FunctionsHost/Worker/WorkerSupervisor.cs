using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Worker;

/// <summary>How to start the worker: the Function App's output, the worker's entry assembly and its environment.</summary>
public sealed record WorkerLaunch(string FunctionAppDirectory, string WorkerPath, IReadOnlyDictionary<string, string> Environment, TimeSpan StartupTimeout);

/// <summary>A worker that has loaded every function: its event stream, its own HTTP address, and the id of each function.</summary>
internal sealed record ReadyWorker(WorkerChannel Channel, Uri HttpUri, IReadOnlyDictionary<string, string> FunctionIds, int ProcessId);

/// <summary>
/// Starts the worker process, completes the protocol's start-up (init, metadata, one load per function) and watches the
/// process: when it exits unexpectedly, invocations in flight fail and a new worker is started, as the Functions host
/// restarts a language worker. A worker that fails before it is ready fails the start with its own last words.
/// </summary>
internal sealed class WorkerSupervisor(WorkerLaunch launch, ILoggerFactory loggers) : IAsyncDisposable
{
    private const int MaxTailLines = 60;
    private const int GrpcMaxMessageLength = int.MaxValue;

    private readonly ILogger _logger = loggers.CreateLogger("FunctionsHost.Worker");
    private readonly ILogger _console = loggers.CreateLogger("FunctionsHost.Worker.Console");
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource<ReadyWorker> _ready = NewReady();
    private volatile Attempt? _attempt;
    private Task? _watch;
    private int _disposed;

    public Uri GrpcUri { get; set; } = null!;

    /// <summary>The functions the worker indexed, in its order.</summary>
    public IReadOnlyList<WorkerFunction> Functions { get; private set; } = [];

    /// <summary>The running worker's process id (null while none is ready).</summary>
    public int? ProcessId => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result.ProcessId : null;

    /// <summary>How many times a worker that had been ready was replaced after it exited.</summary>
    public int Restarts { get; private set; }

    /// <summary>Starts the first worker; throws <see cref="WorkerStartupException"/> if it does not get ready.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var (ready, attempt) = await LaunchAsync(cancellationToken);
        _ready.TrySetResult(ready);
        _watch = WatchAsync(attempt);
    }

    /// <summary>The ready worker, waiting up to <paramref name="wait"/> for one that is (re)starting.</summary>
    public async Task<ReadyWorker> WaitReadyAsync(TimeSpan wait, CancellationToken cancellationToken, ReadyWorker? dead = null)
    {
        var deadline = DateTime.UtcNow + wait;
        try
        {
            while (true)
            {
                var ready = await _ready.Task.WaitAsync(deadline - DateTime.UtcNow is { Ticks: > 0 } left ? left : TimeSpan.Zero, cancellationToken);
                if (ready != dead)
                {
                    return ready;
                }

                // The caller saw this worker die before its exit was noticed here: wait for the replacement.
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException();
                }

                await Task.Delay(25, cancellationToken);
            }
        }
        catch (TimeoutException)
        {
            throw new WorkerUnavailableException($"No worker became ready within {wait.TotalSeconds:0} s.");
        }
    }

    /// <summary>Called by the gRPC service for each stream; runs until the stream ends.</summary>
    public async Task AcceptStreamAsync(string workerId, IAsyncStreamReader<StreamingMessage> reader, IServerStreamWriter<StreamingMessage> writer, CancellationToken cancellationToken)
    {
        var attempt = _attempt;
        if (attempt is null || attempt.WorkerId != workerId)
        {
            _logger.LogWarning("Refused an event stream from unknown worker {WorkerId}", workerId);
            throw new Grpc.Core.RpcException(new Status(StatusCode.PermissionDenied, "Unknown worker id."));
        }

        var channel = new WorkerChannel(writer, loggers, attempt.AddLine);
        attempt.Channel.TrySetResult(channel);
        await channel.ReadAsync(reader, cancellationToken);
    }

    private async Task<(ReadyWorker, Attempt)> LaunchAsync(CancellationToken cancellationToken)
    {
        var attempt = new Attempt(Guid.NewGuid().ToString());
        _attempt = attempt;
        var process = StartProcess(attempt);
        attempt.Process = process;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(launch.StartupTimeout);
        try
        {
            var channel = await Guard(attempt, attempt.Channel.Task, timeout.Token);
            var init = await Guard(attempt, channel.RequestAsync("init", new StreamingMessage
            {
                RequestId = Guid.NewGuid().ToString(),
                WorkerInitRequest = new WorkerInitRequest
                {
                    HostVersion = "4.0.0-vending-local",
                    FunctionAppDirectory = launch.FunctionAppDirectory,
                    WorkerDirectory = launch.FunctionAppDirectory,
                },
            }, timeout.Token), timeout.Token);
            CheckStatus(init.WorkerInitResponse.Result, "init", attempt);
            if (!init.WorkerInitResponse.Capabilities.TryGetValue("HttpUri", out var httpUri) || !Uri.TryCreate(httpUri, UriKind.Absolute, out var workerHttp))
            {
                throw new WorkerStartupException("The worker did not name its HttpUri: is ConfigureFunctionsWebApplication (ASP.NET Core integration) in Program.cs?");
            }

            var metadata = await Guard(attempt, channel.RequestAsync("metadata", new StreamingMessage
            {
                RequestId = Guid.NewGuid().ToString(),
                FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = launch.FunctionAppDirectory },
            }, timeout.Token), timeout.Token);
            CheckStatus(metadata.FunctionMetadataResponse.Result, "metadata", attempt);
            if (metadata.FunctionMetadataResponse.UseDefaultMetadataIndexing)
            {
                throw new WorkerStartupException("The worker asks the host to index functions.metadata itself; this host runs worker-indexed apps only.");
            }

            var results = metadata.FunctionMetadataResponse.FunctionMetadataResults;
            var loads = results.Select(f => channel.RequestAsync("load:" + f.FunctionId, new StreamingMessage
            {
                RequestId = Guid.NewGuid().ToString(),
                FunctionLoadRequest = new FunctionLoadRequest { FunctionId = f.FunctionId, Metadata = f },
            }, timeout.Token)).ToList();
            foreach (var (load, function) in (await Guard(attempt, Task.WhenAll(loads), timeout.Token)).Zip(results))
            {
                CheckStatus(load.FunctionLoadResponse.Result, $"load of {function.Name}", attempt);
            }

            // The worker names its HttpUri before its Kestrel listens: wait for it, or the first request is refused.
            await Guard(attempt, WaitForListenerAsync(workerHttp, timeout.Token), timeout.Token);
            Functions = results.Select(WorkerFunction.FromMetadata).ToList();
            _logger.LogInformation("Worker {ProcessId} loaded {FunctionCount} functions; its HTTP is {HttpUri}", process.Id, results.Count, workerHttp);
            return (new ReadyWorker(channel, workerHttp, results.ToDictionary(f => f.Name, f => f.FunctionId, StringComparer.OrdinalIgnoreCase), process.Id), attempt);
        }
        catch (Exception exception) when (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            Kill(process);
            throw new WorkerStartupException($"The worker did not load its functions within {launch.StartupTimeout.TotalSeconds:0} s.{attempt.Describe()}");
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    // Whatever the step waits for, a worker that exits first ends the wait with its exit code and last output.
    private static async Task<T> Guard<T>(Attempt attempt, Task<T> step, CancellationToken cancellationToken)
    {
        var finished = await Task.WhenAny(step, attempt.Exited.Task).WaitAsync(cancellationToken);
        if (finished != step && !step.IsCompleted)
        {
            var exitCode = await attempt.Exited.Task;
            // Give the output readers a moment to deliver the last lines the process wrote.
            await attempt.OutputDrained.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            throw new WorkerStartupException($"The worker exited with code {exitCode} before it was ready.{attempt.Describe()}");
        }

        return await step;
    }

    private static async Task<bool> WaitForListenerAsync(Uri uri, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                await client.ConnectAsync(uri.Host, uri.Port, cancellationToken);
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private static void CheckStatus(StatusResult result, string step, Attempt attempt)
    {
        if (result.Status != StatusResult.Types.Status.Success)
        {
            throw new WorkerStartupException($"The worker's {step} failed: {result.Exception?.Message ?? result.Result}.{attempt.Describe()}");
        }
    }

    private async Task WatchAsync(Attempt attempt)
    {
        while (true)
        {
            var exitCode = await attempt.Exited.Task;
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            var failed = _ready;
            _ready = NewReady();
            failed.Task.Result.Channel.Close();
            _logger.LogError("Worker process {ProcessId} exited with code {ExitCode}; starting a new one", attempt.Process?.Id, exitCode);
            var delay = TimeSpan.FromMilliseconds(250);
            while (true)
            {
                try
                {
                    var (ready, next) = await LaunchAsync(_stopping.Token);
                    attempt = next;
                    Restarts++;
                    _ready.TrySetResult(ready);
                    break;
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is WorkerStartupException or WorkerUnavailableException)
                {
                    _logger.LogError(exception, "The worker failed to restart; trying again in {Delay}", delay);
                    try
                    {
                        await Task.Delay(delay, _stopping.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                }
            }
        }
    }

    private Process StartProcess(Attempt attempt)
    {
        var requestId = Guid.NewGuid().ToString();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = launch.FunctionAppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(launch.WorkerPath);
        // The worker 2.x arguments (and the older names, which some worker versions still read).
        foreach (var (name, value) in new[]
        {
            ("functions-uri", GrpcUri.ToString()),
            ("functions-worker-id", attempt.WorkerId),
            ("functions-request-id", requestId),
            ("functions-grpc-max-message-length", GrpcMaxMessageLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("host", GrpcUri.Host),
            ("port", GrpcUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("workerId", attempt.WorkerId),
            ("requestId", requestId),
            ("grpcMaxMessageLength", GrpcMaxMessageLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        })
        {
            info.ArgumentList.Add("--" + name);
            info.ArgumentList.Add(value);
        }

        // The host's own settings (its function key above all) stay in the host, also when they reached it as
        // environment variables, which a child process would otherwise inherit.
        foreach (var name in info.Environment.Keys.Where(IsHostOwnVariable).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in launch.Environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var open = 2;
        void Line(string? line, bool error)
        {
            if (line is null)
            {
                if (Interlocked.Decrement(ref open) == 0)
                {
                    attempt.Drained.TrySetResult();
                }

                return;
            }

            attempt.AddLine(line);
            _console.Log(error ? LogLevel.Warning : LogLevel.Debug, "{WorkerOutput}", line);
        }

        process.OutputDataReceived += (_, e) => Line(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => Line(e.Data, error: true);
        process.Exited += (_, _) => attempt.Exited.TrySetResult(SafeExitCode(process));
        if (!process.Start())
        {
            throw new WorkerStartupException($"Could not start 'dotnet {launch.WorkerPath}'.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _logger.LogInformation("Started worker process {ProcessId} ({WorkerPath})", process.Id, launch.WorkerPath);
        return process;
    }

    internal static bool IsHostOwnVariable(string name) =>
        name.StartsWith(FunctionsHostOptions.SectionName + "__", StringComparison.OrdinalIgnoreCase);

    private static int SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    private static void Kill(Process? process)
    {
        try
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Stopped by the app first, then disposed with the app's services.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_attempt?.Process is { } process)
        {
            Kill(process);
            try
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("Worker process {ProcessId} did not exit within 10 s of being killed", process.Id);
            }

            process.Dispose();
        }

        if (_watch is not null)
        {
            await _watch;
        }

        _stopping.Dispose();
    }

    private static TaskCompletionSource<ReadyWorker> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One worker process, from start to exit.</summary>
    private sealed class Attempt(string workerId)
    {
        private readonly ConcurrentQueue<string> _tail = new();

        public string WorkerId { get; } = workerId;

        public Process? Process { get; set; }

        public TaskCompletionSource<WorkerChannel> Channel { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<int> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task OutputDrained => Drained.Task;

        public void AddLine(string line)
        {
            _tail.Enqueue(line);
            while (_tail.Count > MaxTailLines && _tail.TryDequeue(out _))
            {
            }
        }

        public string Describe() => _tail.IsEmpty ? "" : Environment.NewLine + "Worker output:" + Environment.NewLine + string.Join(Environment.NewLine, _tail);
    }
}
