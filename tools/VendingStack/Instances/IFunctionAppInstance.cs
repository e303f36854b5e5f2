namespace Vending.Stack.Instances;

/// <summary>
/// One instance of the Function App: its functions (HTTP, queue, timer) on its own port over the stack's shared
/// storage. The one seam between the stack and how the app is hosted (<see cref="StackOptions.FunctionAppFactory"/>):
/// the local Functions host with the real isolated worker, in this process (<see cref="WorkerHostFunctionApp"/>) or as a
/// child process a test can kill (<see cref="ChildProcessFunctionApp"/>).
/// </summary>
public interface IFunctionAppInstance : IAsyncDisposable
{
    /// <summary>Its name behind the front (<c>i0</c>, <c>i1</c>, ...), also the <c>x-vending-instance</c> header of its answers.</summary>
    string Id { get; }

    /// <summary>Its own address (the same across restarts), e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    Uri BaseUrl { get; }

    bool IsRunning { get; }

    /// <summary>Starts it and returns once it answers.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops it: a host in this process stops gracefully, a child process is killed like a crash (SIGKILL, no draining).</summary>
    Task StopAsync();
}

/// <summary>What an instance is started with; the same for every instance except <see cref="Id"/>, <see cref="BaseUrl"/>
/// and <see cref="LogPath"/>. The app is changed through <see cref="Settings"/> only (read at every start), as an
/// operator would: nothing is injected into it, since it runs in its own worker process.</summary>
public sealed record FunctionAppInstanceSpec(
    string Id,
    Uri BaseUrl,
    IReadOnlyDictionary<string, string?> Settings,
    string EnvironmentName,
    string LogPath);

/// <summary>Makes an (unstarted) instance; see <see cref="FunctionAppHosting"/> for the built-in ones.</summary>
public delegate IFunctionAppInstance FunctionAppFactory(FunctionAppInstanceSpec spec);

/// <summary>The built-in ways to host an instance.</summary>
public static class FunctionAppHosting
{
    /// <summary>The Functions host in this process, the Function App as the real isolated worker in a child process.</summary>
    public static readonly FunctionAppFactory WorkerHost = spec => new WorkerHostFunctionApp(spec);

    /// <summary>The Functions host as a child process (its worker a child of that): both can be killed like a crash.</summary>
    public static readonly FunctionAppFactory ChildProcess = spec => new ChildProcessFunctionApp(spec, ChildProcessFunctionApp.FindHostDll(), HostDefaults());

    /// <summary>The Function App's build output of the caller's configuration (Release under <c>dotnet run -c Release</c>).</summary>
    public static string FunctionAppDirectory()
    {
        var repositoryRoot = Vending.Testing.Azurite.RepositoryRoot();
        return CallerConfigurations()
            .Select(c => Path.Combine(repositoryRoot, "functions", "VendingFunctions", "bin", c, "net10.0"))
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "worker.config.json")))
            ?? throw new InvalidOperationException("The Function App is not built (functions/VendingFunctions/bin/*/net10.0/worker.config.json): build the caller, which builds it first.");
    }

    /// <summary>The caller's build configuration first (the folder above its net10.0), then Release, then Debug.</summary>
    internal static IEnumerable<string> CallerConfigurations()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Release";
        return new[] { configuration, "Release", "Debug" }.Distinct();
    }

    /// <summary>What the host needs besides the instance's settings (which win): where the Function App's build is.</summary>
    internal static Dictionary<string, string?> HostDefaults() =>
        new(StringComparer.OrdinalIgnoreCase) { ["FunctionsHost:FunctionAppPath"] = FunctionAppDirectory() };

    /// <summary>The instance's settings as they are now, over <see cref="HostDefaults"/>.</summary>
    internal static Dictionary<string, string?> HostSettings(FunctionAppInstanceSpec spec)
    {
        var settings = HostDefaults();
        foreach (var (key, value) in spec.Settings)
        {
            settings[key] = value;
        }

        return settings;
    }
}
