using FunctionsHost;

namespace Vending.Stack.Instances;

/// <summary>
/// The Function App as in Azure: the local Functions host (tools/FunctionsHost) in this process, on real Kestrel, and
/// the compiled <c>VendingFunctions.dll</c> as the real isolated worker in a child process it supervises. The host's
/// log (the worker's RpcLog records included) goes to <see cref="FunctionAppInstanceSpec.LogPath"/>, one line per record.
/// </summary>
public sealed class WorkerHostFunctionApp : IFunctionAppInstance
{
    private readonly FunctionAppInstanceSpec _spec;
    private FunctionsHostApp? _host;

    public WorkerHostFunctionApp(FunctionAppInstanceSpec spec) => _spec = spec;

    public string Id => _spec.Id;

    public Uri BaseUrl => _spec.BaseUrl;

    public bool IsRunning => _host is not null;

    /// <summary>The running host (a new one after each restart).</summary>
    public FunctionsHostApp Host => _host ?? throw new InvalidOperationException($"Instance {Id} is stopped.");

    /// <summary>The worker's process id (null while stopped or while the host restarts its worker).</summary>
    public int? WorkerProcessId => _host?.WorkerProcessId;

    public string LogPath => _spec.LogPath;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_host is not null)
        {
            return;
        }

        var options = new FunctionsHostStartOptions
        {
            Urls = BaseUrl.ToString().TrimEnd('/'),
            EnvironmentName = _spec.EnvironmentName,
        };
        foreach (var (key, value) in FunctionAppHosting.HostSettings(_spec))
        {
            options.Settings[key] = value;
        }

        options.Settings["FunctionsHost:LogPath"] = _spec.LogPath;

        // The port was just released (a restart) or chosen free; a rare bind race is retried briefly.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _host = await FunctionsHostApp.StartAsync(options, cancellationToken);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    /// <summary>A graceful stop: triggers hand their messages back, the worker is stopped, then the web server.</summary>
    public async Task StopAsync()
    {
        if (_host is { } host)
        {
            _host = null;
            await host.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
