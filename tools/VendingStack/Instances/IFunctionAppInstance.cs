namespace Vending.Stack.Instances;

/// <summary>
/// One instance of the Function App: its functions (HTTP, queue, timer) on its own port over the stack's shared
/// storage. The one seam between the stack and how the app is hosted: today the in-process local runner
/// (<see cref="InProcessFunctionApp"/>) or the runner as a child process a test can kill (<see cref="ChildProcessFunctionApp"/>);
/// a host that runs the real isolated worker plugs in through <see cref="StackOptions.FunctionAppFactory"/>.
/// </summary>
public interface IFunctionAppInstance : IAsyncDisposable
{
    /// <summary>Its name behind the front (<c>i0</c>, <c>i1</c>, ...), also the <c>x-vending-instance</c> header of its answers.</summary>
    string Id { get; }

    /// <summary>Its own address (the same across restarts), e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    Uri BaseUrl { get; }

    bool IsRunning { get; }

    /// <summary>The app's service provider when it runs in this process (changes on restart); null in a child process.</summary>
    IServiceProvider? Services { get; }

    /// <summary>Starts it and returns once it answers.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops it: in process a graceful stop, a child process is killed like a crash (SIGKILL, no draining).</summary>
    Task StopAsync();
}

/// <summary>What an instance is started with; the same for every instance except <see cref="Id"/> and <see cref="BaseUrl"/>.</summary>
public sealed record FunctionAppInstanceSpec(
    string Id,
    Uri BaseUrl,
    IReadOnlyDictionary<string, string?> Settings,
    Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? ConfigureServices,
    string EnvironmentName,
    string LogPath);

/// <summary>Makes an (unstarted) instance; see <see cref="FunctionAppHosting"/> for the built-in ones.</summary>
public delegate IFunctionAppInstance FunctionAppFactory(FunctionAppInstanceSpec spec);

/// <summary>The built-in ways to host an instance.</summary>
public static class FunctionAppHosting
{
    /// <summary>The local runner in this process: fastest to start, its services reachable by tests.</summary>
    public static readonly FunctionAppFactory InProcess = spec => new InProcessFunctionApp(spec);

    /// <summary>The local runner as a child process (built next to this library): it can be killed like a crash.</summary>
    public static readonly FunctionAppFactory ChildProcess = spec => new ChildProcessFunctionApp(spec, ChildProcessFunctionApp.FindRunnerDll());
}
