using System.Net;
using System.Text.Json;
using FunctionsHost.Http;
using FunctionsHost.Logging;
using FunctionsHost.Triggers;
using FunctionsHost.Worker;
using FunctionsHost.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FunctionsHost;

/// <summary>How <see cref="FunctionsHostApp.StartAsync"/> starts a host (for end-to-end tests and tools).</summary>
public sealed class FunctionsHostStartOptions
{
    /// <summary>Command-line style arguments (<c>--Vending:PublicBaseUrl=...</c>).</summary>
    public string[] Args { get; init; } = [];

    /// <summary>Settings that win over every other source; all but the <c>FunctionsHost</c> section reach the worker as
    /// environment variables (<c>:</c> written as <c>__</c>).</summary>
    public IDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Runs on the host's own services (not the worker's): e.g. a log provider that also receives the worker's logs.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Where to listen; the default is a free port on 127.0.0.1.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:0";

    /// <summary>The worker's AZURE_FUNCTIONS_ENVIRONMENT (and the host's environment).</summary>
    public string EnvironmentName { get; init; } = Environments.Development;
}

/// <summary>
/// A small Azure Functions host: starts the compiled Function App as the real .NET isolated worker, speaks the
/// FunctionRpc protocol to it, serves <c>/{routePrefix}/{route}</c> through the worker's ASP.NET Core integration,
/// polls the queues and runs the timers its functions declare, and restarts the worker if it dies.
/// </summary>
public sealed class FunctionsHostApp : IAsyncDisposable
{
    /// <summary>Where the host listens when no <c>--urls</c> is given: the port of <c>Vending:PublicBaseUrl</c> in the sample settings.</summary>
    public const string DefaultUrls = "http://127.0.0.1:7072";

    private const string WorkerRuntime = "dotnet-isolated";

    private readonly WebApplication _app;
    private readonly WorkerSupervisor _supervisor;
    private readonly List<IHostedService> _triggers;

    private FunctionsHostApp(WebApplication app, WorkerSupervisor supervisor, List<IHostedService> triggers, Uri baseUrl)
    {
        _app = app;
        _supervisor = supervisor;
        _triggers = triggers;
        BaseUrl = baseUrl;
    }

    /// <summary>The host's own address, e.g. <c>http://127.0.0.1:41234/</c> (append <c>api/payments</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>The host's services (not the worker's).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The functions the worker indexed and loaded.</summary>
    public IReadOnlyList<WorkerFunction> Functions => _supervisor.Functions;

    /// <summary>The worker process's id; null while a worker is being restarted.</summary>
    public int? WorkerProcessId => _supervisor.ProcessId;

    /// <summary>What the host drives besides HTTP: <c>queue {Function} {Queue} {Connection}</c> and <c>timer {Function} {Schedule}</c>.</summary>
    public IReadOnlyList<string> DrivenTriggers => _triggers.Select(t => t switch
    {
        WorkerQueueListener q => $"queue {q.Function.Name} {q.Function.QueueName} {q.Function.Connection}",
        WorkerTimerService timer => $"timer {timer.Function.Name} {timer.Function.Schedule}",
        _ => t.GetType().Name,
    }).ToList();

    /// <summary>How many times the worker died after it had been ready and was replaced.</summary>
    public int WorkerRestarts => _supervisor.Restarts;

    /// <summary>Starts the host on real Kestrel and the worker beside it; returns once every function is loaded.
    /// A worker that fails first throws <see cref="WorkerStartupException"/> with the worker's own output.</summary>
    public static async Task<FunctionsHostApp> StartAsync(FunctionsHostStartOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FunctionsHostStartOptions();
        var (app, supervisor, grpc, hostOptions, queueSettings) = Build(options.Args, options.EnvironmentName, options.Settings, options.ConfigureServices, options.Urls);
        var triggers = new List<IHostedService>();
        try
        {
            await app.StartAsync(cancellationToken);
            supervisor.GrpcUri = new Uri($"http://127.0.0.1:{grpc.IPEndPoint!.Port}/");
            await supervisor.StartAsync(cancellationToken);
            if (hostOptions.RunTriggers)
            {
                triggers.AddRange(CreateTriggers(app, supervisor, hostOptions, queueSettings));
                foreach (var trigger in triggers)
                {
                    await trigger.StartAsync(cancellationToken);
                }
            }
        }
        catch
        {
            await StopAsync(app, supervisor, triggers);
            throw;
        }

        var address = app.Urls.First(u => !u.EndsWith($":{grpc.IPEndPoint!.Port}", StringComparison.Ordinal));
        return new FunctionsHostApp(app, supervisor, triggers, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>The command-line entry point: runs until Ctrl+C / SIGTERM, then stops the worker.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var urls = args.SkipWhile(a => a != "--urls").Skip(1).FirstOrDefault() ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? DefaultUrls;
        // --urls is the host's listener list, given to Kestrel directly; as configuration it would only draw a warning.
        var rest = args.Where((a, i) => a != "--urls" && (i == 0 || args[i - 1] != "--urls")).ToArray();
        var environmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is { Length: > 0 } named ? named : Environments.Development;
        FunctionsHostApp host;
        try
        {
            host = await StartAsync(new FunctionsHostStartOptions { Args = rest, Urls = urls, EnvironmentName = environmentName });
        }
        catch (WorkerStartupException exception)
        {
            // The reason (the worker's last words: e.g. the missing setting's name) on one line, and a failing exit code.
            await Console.Error.WriteLineAsync(LogLine.Format(LogLevel.Critical, "FunctionsHost", default, "The worker did not start: " + exception.Message, null));
            return 1;
        }

        await using (host)
        {
            host._app.Logger.LogInformation("Functions host on {Url}: {FunctionCount} functions in worker {ProcessId}", host.BaseUrl, host.Functions.Count, host.WorkerProcessId);
            await host._app.WaitForShutdownAsync();
        }

        return 0;
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => StopAsync(_app, _supervisor, _triggers);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_app, _supervisor, _triggers);
        await _app.DisposeAsync();
    }

    private static async Task StopAsync(WebApplication app, WorkerSupervisor supervisor, List<IHostedService> triggers)
    {
        // Triggers first (they hand unfinished messages back), then the worker, then the web server.
        await Task.WhenAll(triggers.Select(t => t.StopAsync(CancellationToken.None)));
        triggers.Clear();
        await supervisor.DisposeAsync();
        await app.StopAsync();
    }

    private static IEnumerable<IHostedService> CreateTriggers(WebApplication app, WorkerSupervisor supervisor, FunctionsHostOptions options, QueueHostSettings queueSettings)
    {
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var invoker = app.Services.GetRequiredService<WorkerInvoker>();
        foreach (var function in supervisor.Functions)
        {
            if (function.IsQueue)
            {
                yield return new WorkerQueueListener(function, invoker, queueSettings, app.Configuration, loggers.CreateLogger("FunctionsHost.Queues"));
            }
            else if (function.IsTimer)
            {
                var schedule = options.TimerIntervalSeconds is > 0 and var seconds
                    ? TimerSchedule.Every(TimeSpan.FromSeconds(seconds))
                    : TimerSchedule.Parse(ResolveSetting(function.Schedule ?? "", app.Configuration, function.Name));
                yield return new WorkerTimerService(function, schedule, invoker, TimeProvider.System, loggers.CreateLogger("FunctionsHost.Timers"));
            }
        }
    }

    /// <summary>
    /// As the Functions host does with host.json's <c>telemetryMode: OpenTelemetry</c>: with an OTLP endpoint configured
    /// (the same <c>OTEL_EXPORTER_OTLP_*</c> settings the worker reads), the host exports the server span of each HTTP call
    /// it serves. Its id is the trace context of the invocation, so the worker's spans have their parent in the trace.
    /// </summary>
    private static void AddHostTelemetry(WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("vending-functions-host"))
            .WithTracing(tracing => tracing
                .AddSource("Microsoft.AspNetCore")
                // The worker's event stream is one request for the worker's whole life: not a call anyone made.
                .AddProcessor(new DropRpcStreamSpans()))
            .UseOtlpExporter();
    }

    private sealed class DropRpcStreamSpans : BaseProcessor<System.Diagnostics.Activity>
    {
        public override void OnStart(System.Diagnostics.Activity data)
        {
            if (data.DisplayName.Contains("FunctionRpc", StringComparison.Ordinal) || (data.GetTagItem("url.path") as string)?.Contains("FunctionRpc", StringComparison.Ordinal) == true)
            {
                data.ActivityTraceFlags &= ~System.Diagnostics.ActivityTraceFlags.Recorded;
            }
        }
    }

    /// <summary><c>%Name%</c> is an app setting, as in Functions binding expressions.</summary>
    internal static string ResolveSetting(string value, IConfiguration configuration, string function)
    {
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var name = value[1..^1];
            return configuration[name] is { Length: > 0 } resolved
                ? resolved
                : throw new InvalidOperationException($"Function {function}: the setting '{name}' its schedule refers to is not configured.");
        }

        return value;
    }

    private static (WebApplication, WorkerSupervisor, ListenOptions, FunctionsHostOptions, QueueHostSettings) Build(
        string[] args, string environmentName, IDictionary<string, string?> overrides, Action<IServiceCollection>? configureServices, string urls)
    {
        var contentRoot = AppContext.BaseDirectory;
        var repositoryRoot = FindRepositoryRoot(contentRoot);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            EnvironmentName = environmentName,
            ContentRootPath = contentRoot,
            WebRootPath = FindWebRoot(contentRoot, repositoryRoot),
        });
        overrides.TryGetValue($"{FunctionsHostOptions.SectionName}:{nameof(FunctionsHostOptions.LocalSettingsPath)}", out var overriddenLocalSettings);
        var localSettingsPath = overriddenLocalSettings ?? builder.Configuration[$"{FunctionsHostOptions.SectionName}:{nameof(FunctionsHostOptions.LocalSettingsPath)}"]
            ?? (repositoryRoot is null ? null : Path.Combine(repositoryRoot, "local.settings.json"));
        var localSettings = localSettingsPath is not null && File.Exists(localSettingsPath) ? LocalSettings.Load(localSettingsPath) : [];
        InsertBeforeEnvironment(builder.Configuration, localSettings);
        builder.Configuration.AddInMemoryCollection(overrides);

        var options = builder.Configuration.GetSection(FunctionsHostOptions.SectionName).Get<FunctionsHostOptions>() ?? new FunctionsHostOptions();
        var appDirectory = Path.GetFullPath(options.FunctionAppPath ?? FindFunctionApp(repositoryRoot)
            ?? throw new WorkerStartupException("No Function App build output found: build functions/VendingFunctions or set FunctionsHost:FunctionAppPath."));
        var workerPath = WorkerPath(appDirectory);
        var hostJson = options.HostJsonPath ?? Path.Combine(appDirectory, "host.json");
        var queueSettings = QueueHostSettings.Load(hostJson);
        var routePrefix = RoutePrefix(hostJson);

        var environment = WorkerEnvironment(localSettings, overrides, appDirectory, environmentName);
        // Operator routes are anonymous to the host (App Service Authentication sits in front of them in Azure) and the
        // app checks the operator key itself: unless the settings name one, the app's key is this host's function key,
        // as the reflection runner does and as Azure does with the Key Vault secret behind the same setting.
        const string automationKey = "Vending__Operator__AutomationKey";
        if (!environment.ContainsKey(automationKey) && Environment.GetEnvironmentVariable(automationKey) is null && !string.IsNullOrEmpty(options.FunctionKey))
        {
            environment[automationKey] = options.FunctionKey;
        }

        // App Service Authentication vouches for x-ms-client-principal in Azure; here only the local sign-in does, so
        // the app trusts the header exactly when the sign-in is on (whatever local.settings.json says).
        environment["Vending__Operator__TrustPlatformPrincipal"] = options.LocalSignIn ? "true" : "false";
        var launch = new WorkerLaunch(appDirectory, workerPath, environment, TimeSpan.FromSeconds(options.WorkerStartupTimeoutSeconds));

        // The public HTTP/1.1 endpoint(s) and a loopback HTTP/2 one (h2c) that only the worker dials.
        ListenOptions grpc = null!;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var uri = new Uri(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
                if (uri.Host == "localhost")
                {
                    kestrel.ListenLocalhost(uri.Port);
                }
                else
                {
                    kestrel.Listen(IPAddress.Parse(uri.Host), uri.Port);
                }
            }

            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpc = listen;
            });
        });

        // ASP.NET Core's request-start lines carry the query, where a function key may be (?code=): the host does not
        // write them; the worker's middleware logs each call without the query instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        // One line per record on the console and in FunctionsHost:LogPath, the worker's RpcLog records included.
        builder.Logging.ClearProviders();
        builder.Logging.AddLineLogging(options.LogPath);
        builder.Services.AddGrpc(grpcOptions =>
        {
            grpcOptions.MaxReceiveMessageSize = null;
            grpcOptions.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(sp => new WorkerSupervisor(launch, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp => new WorkerInvoker(sp.GetRequiredService<WorkerSupervisor>(), TimeSpan.FromSeconds(options.WorkerUnavailableWaitSeconds)));
        builder.Services.AddSingleton(sp => new HttpFunctionForwarder(
            sp.GetRequiredService<WorkerSupervisor>(), sp.GetRequiredService<WorkerInvoker>(), options.FunctionKey, sp.GetRequiredService<ILoggerFactory>().CreateLogger("FunctionsHost.Http")));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        AddHostTelemetry(builder);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        if (string.IsNullOrEmpty(options.FunctionKey))
        {
            app.Logger.LogWarning("FunctionsHost:FunctionKey is not set: AuthorizationLevel.Function routes answer 401 to every call");
        }

        if (options.LocalSignIn)
        {
            LocalSignIn.UsePlatformStandIn(app);
            LocalSignIn.Map(app);
            app.Logger.LogWarning("Local sign-in is on: anyone reaching {Path} can sign in with any name and role (local only)", LocalSignIn.LoginPath);
        }

        app.MapGrpcService<FunctionRpcService>();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        ApiDocsEndpoints.Map(app, repositoryRoot, contentRoot);

        // Everything under the route prefix that is not one of the host's own endpoints (/api/docs) goes to a function.
        var forwarder = app.Services.GetRequiredService<HttpFunctionForwarder>();
        var prefix = new PathString("/" + routePrefix.Trim('/'));
        app.MapWhen(
            context => context.GetEndpoint() is null && context.Request.Path.StartsWithSegments(prefix),
            branch => branch.Map(prefix, api => api.Run(forwarder.HandleAsync)));
        return (app, app.Services.GetRequiredService<WorkerSupervisor>(), grpc, options, queueSettings);
    }

    /// <summary>
    /// What the worker's process gets besides the host's own environment: the Values of local.settings.json that the
    /// environment does not already set (Core Tools' rule), every explicit setting, and the variables the Functions
    /// host always sets. The host's own section stays out: the function key is the host's, not the app's.
    /// </summary>
    internal static Dictionary<string, string> WorkerEnvironment(
        IReadOnlyDictionary<string, string?> localSettings, IDictionary<string, string?> overrides, string appDirectory, string environmentName)
    {
        var environment = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        static bool IsHostOwn(string key) => key.StartsWith(FunctionsHostOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase);
        foreach (var (key, value) in localSettings)
        {
            var name = key.Replace(":", "__", StringComparison.Ordinal);
            if (!IsHostOwn(key) && value is not null && Environment.GetEnvironmentVariable(name) is null)
            {
                environment[name] = value;
            }
        }

        foreach (var (key, value) in overrides)
        {
            if (!IsHostOwn(key))
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value ?? "";
            }
        }

        environment["FUNCTIONS_WORKER_RUNTIME"] = WorkerRuntime;
        environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;
        environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        environment["AzureWebJobsScriptRoot"] = appDirectory;
        environment["AZURE_FUNCTIONS_ENVIRONMENT"] = environmentName;
        return environment;
    }

    private static string WorkerPath(string appDirectory)
    {
        var config = Path.Combine(appDirectory, "worker.config.json");
        if (!File.Exists(config))
        {
            throw new WorkerStartupException($"{config} not found: is {appDirectory} a Function App's build output?");
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(config));
        var worker = document.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString()!;
        return Path.Combine(appDirectory, worker);
    }

    private static string RoutePrefix(string hostJson)
    {
        if (!File.Exists(hostJson))
        {
            return "api";
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(hostJson), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return document.RootElement.TryGetProperty("extensions", out var extensions)
            && extensions.TryGetProperty("http", out var http)
            && http.TryGetProperty("routePrefix", out var prefix) && prefix.GetString() is { } value
            ? value
            : "api";
    }

    // The repository's wwwroot when the host runs from a clone (edits show at once), else the one beside the binaries.
    private static string FindWebRoot(string contentRoot, string? repositoryRoot)
    {
        var source = repositoryRoot is null ? null : Path.Combine(repositoryRoot, "tools", "FunctionsHost", "wwwroot");
        return source is not null && Directory.Exists(source) ? source : Path.Combine(contentRoot, "wwwroot");
    }

    private static string? FindFunctionApp(string? repositoryRoot)
    {
        if (repositoryRoot is null)
        {
            return null;
        }

        return new[] { "Release", "Debug" }
            .Select(c => Path.Combine(repositoryRoot, "functions", "VendingFunctions", "bin", c, "net10.0"))
            .Where(d => File.Exists(Path.Combine(d, "worker.config.json")))
            .OrderByDescending(d => File.GetLastWriteTimeUtc(Path.Combine(d, "VendingFunctions.dll")))
            .FirstOrDefault();
    }

    // local.settings.json ranks like Core Tools ranks it: above appsettings.json, below real environment variables
    // and the command line.
    private static void InsertBeforeEnvironment(ConfigurationManager configuration, Dictionary<string, string?> values)
    {
        var sources = configuration.Sources;
        var index = sources.Select((source, i) => (source, i))
            .Where(x => x.source is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            .Select(x => x.i)
            .DefaultIfEmpty(sources.Count)
            .First();
        sources.Insert(index, new MemoryConfigurationSource { InitialData = values });
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VendingFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
