using System.Reflection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VendingFunctions;

namespace LocalRunner;

/// <summary>How <see cref="LocalRunnerApp.StartAsync"/> starts a runner (for end-to-end tests and tools).</summary>
public sealed class LocalRunnerStartOptions
{
    /// <summary>Command-line style arguments (<c>--Vending:PublicBaseUrl=...</c>).</summary>
    public string[] Args { get; init; } = [];

    /// <summary>Settings that win over every other source (appsettings, local.settings.json, environment, arguments).</summary>
    public IDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Runs after the Function App's own registrations: replace a service with a fake, add a probe.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Where to listen; the default is a free port on 127.0.0.1.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:0";

    /// <summary>Development by default: DI scope validation catches a singleton holding a scoped service.</summary>
    public string EnvironmentName { get; init; } = Environments.Development;
}

/// <summary>
/// Runs the Function App's own function classes without Azure Functions Core Tools: every <c>[HttpTrigger]</c> becomes
/// an ASP.NET Core endpoint at <c>/api/{route}</c>, every <c>[QueueTrigger]</c> polls its queue, every
/// <c>[TimerTrigger]</c> runs on its schedule; all on the same composition root as the Function App.
/// </summary>
public sealed class LocalRunnerApp : IAsyncDisposable
{
    /// <summary>Where the runner listens when no <c>--urls</c> is given: the port of <c>Vending:PublicBaseUrl</c> in the sample settings.</summary>
    public const string DefaultUrls = "http://127.0.0.1:7072";

    private readonly WebApplication _app;

    private LocalRunnerApp(WebApplication app, Uri baseUrl, FunctionCatalog functions)
    {
        _app = app;
        BaseUrl = baseUrl;
        Functions = functions;
    }

    /// <summary>The runner's own address, e.g. <c>http://127.0.0.1:41234/</c> (append <c>api/payments</c>).</summary>
    public Uri BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    public FunctionCatalog Functions { get; }

    /// <summary>The Function App assembly the runner serves.</summary>
    public static Assembly FunctionAppAssembly => typeof(FunctionAppServices).Assembly;

    /// <summary>Builds and starts a runner on real Kestrel; returns once it listens.</summary>
    public static async Task<LocalRunnerApp> StartAsync(LocalRunnerStartOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LocalRunnerStartOptions();
        var (app, catalog) = Build(options.Args, options.EnvironmentName, options.Settings, options.ConfigureServices, options.Urls);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LocalRunnerApp(app, new Uri(address.TrimEnd('/') + "/"), catalog);
    }

    /// <summary>The command-line entry point: runs until Ctrl+C / SIGTERM, then drains and stops.</summary>
    public static async Task RunAsync(string[] args)
    {
        var (app, _) = Build(args, environmentName: null, overrides: null, configureServices: null, urls: null);
        await using (app)
        {
            await app.RunAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static (WebApplication, FunctionCatalog) Build(
        string[] args, string? environmentName, IDictionary<string, string?>? overrides, Action<IServiceCollection>? configureServices, string? urls)
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

        var runnerSettings = builder.Configuration.GetSection(LocalRunnerOptions.SectionName);
        string? overridden = null;
        overrides?.TryGetValue($"{LocalRunnerOptions.SectionName}:{nameof(LocalRunnerOptions.LocalSettingsPath)}", out overridden);
        var localSettings = overridden ?? runnerSettings[nameof(LocalRunnerOptions.LocalSettingsPath)]
            ?? FirstExisting(repositoryRoot, contentRoot, "local.settings.json");
        if (localSettings is not null && File.Exists(localSettings))
        {
            InsertBeforeEnvironment(builder.Configuration, LocalSettings.Load(localSettings));
        }

        if (overrides is { Count: > 0 })
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        StandInForPlatformAuthentication(builder.Configuration, runnerSettings);

        if (urls is not null)
        {
            builder.WebHost.UseUrls(urls);
        }
        else if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }

        var catalog = FunctionCatalog.Load(FunctionAppAssembly);
        builder.Services.AddVendingFunctionApp(builder.Configuration);
        configureServices?.Invoke(builder.Services);
        builder.Services.AddOptions<LocalRunnerOptions>().Bind(runnerSettings);
        builder.Services.AddSingleton(catalog);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        var runner = runnerSettings.Get<LocalRunnerOptions>() ?? new LocalRunnerOptions();
        if (runner.RunTriggers)
        {
            AddTriggers(builder, catalog, runner, repositoryRoot, contentRoot);
        }

        var app = builder.Build();
        if (string.IsNullOrEmpty(builder.Configuration["Vending:Operator:AutomationKey"]) && !runner.LocalSignIn)
        {
            app.Logger.LogWarning("Neither LocalRunner:FunctionKey nor LocalRunner:LocalSignIn is set: operator routes answer 401 to every call");
        }

        if (runner.LocalSignIn)
        {
            LocalSignIn.UsePlatformStandIn(app);
            LocalSignIn.Map(app);
            app.Logger.LogWarning("Local sign-in is on: anyone reaching {Path} can sign in with any name and role (local only)", LocalSignIn.LoginPath);
        }

        app.UseDefaultFiles();
        app.UseStaticFiles();
        HttpFunctionEndpoints.Map(app, catalog);
        ApiDocsEndpoints.Map(app, repositoryRoot, contentRoot);
        return (app, catalog);
    }

    /// <summary>
    /// What App Service Authentication and the Functions host do in Azure, the runner does here: the operator routes
    /// trust <c>x-ms-client-principal</c> only when the runner's local sign-in puts it there (never a client's), and the
    /// operator key is the runner's function key unless one is set for the app.
    /// </summary>
    private static void StandInForPlatformAuthentication(ConfigurationManager configuration, IConfigurationSection runnerSettings)
    {
        var localSignIn = runnerSettings.GetValue<bool>(nameof(LocalRunnerOptions.LocalSignIn));
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [$"{Vending.Core.Operator.Access.OperatorAccessOptions.SectionName}:{nameof(Vending.Core.Operator.Access.OperatorAccessOptions.TrustPlatformPrincipal)}"] = localSignIn ? "true" : "false",
        };
        var automationKey = $"{Vending.Core.Operator.Access.OperatorAccessOptions.SectionName}:{nameof(Vending.Core.Operator.Access.OperatorAccessOptions.AutomationKey)}";
        if (string.IsNullOrEmpty(configuration[automationKey]))
        {
            values[automationKey] = runnerSettings[nameof(LocalRunnerOptions.FunctionKey)];
        }

        configuration.AddInMemoryCollection(values);
    }

    private static void AddTriggers(WebApplicationBuilder builder, FunctionCatalog catalog, LocalRunnerOptions runner, string? repositoryRoot, string contentRoot)
    {
        var hostJson = runner.HostJsonPath ?? FirstExisting(repositoryRoot, contentRoot, "host.json");
        var queueSettings = QueueHostSettings.Load(hostJson);
        foreach (var function in catalog.Queues)
        {
            builder.Services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<QueueTriggerService>(sp, function, queueSettings));
        }

        foreach (var function in catalog.Timers)
        {
            var schedule = runner.TimerIntervalSeconds is > 0 and var seconds
                ? TimerSchedule.Every(TimeSpan.FromSeconds(seconds))
                : TimerSchedule.Parse(ResolveSetting(function.Schedule, builder.Configuration, function.Name));
            builder.Services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<TimerTriggerService>(sp, function, schedule));
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

    private static string? FirstExisting(string? repositoryRoot, string contentRoot, string fileName) =>
        new[] { repositoryRoot, contentRoot }.Where(d => d is not null).Select(d => Path.Combine(d!, fileName)).FirstOrDefault(File.Exists);

    private static string FindWebRoot(string contentRoot, string? repositoryRoot)
    {
        var source = repositoryRoot is null ? null : Path.Combine(repositoryRoot, "tools", "FunctionsHost", "wwwroot");
        return source is not null && Directory.Exists(source) ? source : Path.Combine(contentRoot, "wwwroot");
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
