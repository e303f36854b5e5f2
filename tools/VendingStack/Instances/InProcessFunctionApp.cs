using LocalRunner;

namespace Vending.Stack.Instances;

/// <summary>The Function App's functions in the local runner, in this process, on real Kestrel.</summary>
public sealed class InProcessFunctionApp(FunctionAppInstanceSpec spec) : IFunctionAppInstance
{
    private LocalRunnerApp? _runner;

    public string Id => spec.Id;

    public Uri BaseUrl => spec.BaseUrl;

    public bool IsRunning => _runner is not null;

    /// <summary>The running runner (its services change on restart).</summary>
    public LocalRunnerApp Runner => _runner ?? throw new InvalidOperationException($"Instance {Id} is stopped.");

    public IServiceProvider? Services => _runner?.Services;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_runner is not null)
        {
            return;
        }

        var options = new LocalRunnerStartOptions
        {
            Urls = BaseUrl.ToString().TrimEnd('/'),
            EnvironmentName = spec.EnvironmentName,
            ConfigureServices = spec.ConfigureServices,
        };
        foreach (var (key, value) in spec.Settings)
        {
            options.Settings[key] = value;
        }

        // The port was just released (a restart) or chosen free; a rare bind race is retried briefly.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _runner = await LocalRunnerApp.StartAsync(options, cancellationToken);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_runner is { } runner)
        {
            _runner = null;
            await runner.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
