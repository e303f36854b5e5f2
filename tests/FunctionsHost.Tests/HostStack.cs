using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using FunctionsHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vending.Testing;
using Vending.Vipps;
using Vending.Vipps.Webhooks;
using VippsSimulator.Hosting;

namespace FunctionsHost.Tests;

/// <summary>
/// The product with the real worker: Azurite, the Vipps simulator on real Kestrel, webhooks registered before the host
/// starts (as DevStack does), and <see cref="FunctionsHostApp"/> running the Function App's compiled output. A small
/// local fixture until the shared stack library lands.
/// </summary>
public sealed class HostStack : IAsyncDisposable
{
    public const string FunctionKey = "host-test-function-key";

    private Azurite? _azurite;
    private string? _hostJsonPath;

    public FunctionsHostApp Host { get; private set; } = null!;

    public RunningSimulator Simulator { get; private set; } = null!;

    public Uri BaseUrl => Host.BaseUrl;

    public string StorageConnectionString => _azurite!.ConnectionString;

    public FunctionsHostStartOptions StartOptions { get; private set; } = null!;

    /// <summary>Every log line of the host, the worker's RpcLogs and console included.</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    public static string FunctionAppPath =>
        typeof(HostStack).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FunctionAppPath").Value!;

    /// <summary>Starts the stack; <paramref name="adjust"/> changes the settings, <paramref name="queues"/> host.json's
    /// <c>extensions.queues</c> (already polling every 250 ms).</summary>
    public static async Task<HostStack> StartAsync(Action<IDictionary<string, string?>>? adjust = null, Action<System.Text.Json.Nodes.JsonNode>? queues = null)
    {
        var stack = new HostStack();
        try
        {
            await stack.InitializeAsync(adjust, queues);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync(Action<IDictionary<string, string?>>? adjust, Action<System.Text.Json.Nodes.JsonNode>? queues)
    {
        var root = Azurite.RepositoryRoot();
        _azurite = await Azurite.StartAsync();
        Simulator = await SimulatorApp.StartAsync(0, new Dictionary<string, string?>
        {
            ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
            ["Simulator:Webhooks:RetryDelaysSeconds"] = "0.05,0.1,0.2,0.5",
            ["Simulator:Webhooks:TimeoutSeconds"] = "5",
        });

        var port = Azurite.FreePort();
        var url = $"http://127.0.0.1:{port}";

        // The product's host.json, polling faster: a queue command is picked up within a quarter second.
        _hostJsonPath = Path.Combine(Path.GetTempPath(), $"functions-host-test-{Guid.NewGuid():N}.json");
        var hostJson = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root, "host.json")))!;
        hostJson["extensions"]!["queues"]!["maxPollingInterval"] = "00:00:00.250";
        queues?.Invoke(hostJson["extensions"]!["queues"]!);
        await File.WriteAllTextAsync(_hostJsonPath, hostJson.ToJsonString());

        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["FunctionsHost:FunctionAppPath"] = FunctionAppPath,
            ["FunctionsHost:LocalSettingsPath"] = Path.Combine(root, "local.settings.sample.json"),
            ["FunctionsHost:HostJsonPath"] = _hostJsonPath,
            ["FunctionsHost:FunctionKey"] = FunctionKey,
            ["FunctionsHost:TimerIntervalSeconds"] = "1",
            ["VendingStorage"] = _azurite.ConnectionString,
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["Vipps:BaseUrl"] = Simulator.BaseUrl,
            ["Vipps:RetryBaseDelayMilliseconds"] = "50",
            ["Vending:PublicBaseUrl"] = url,
            ["Events:LocalSinkPath"] = Path.Combine(Path.GetTempPath(), $"functions-host-events-{Guid.NewGuid():N}.jsonl"),
        };

        var merged = LocalSettingsSample(root);
        foreach (var (key, value) in settings)
        {
            merged[key] = value;
        }

        foreach (var (merchant, secret) in await RegisterWebhooksAsync(merged, $"{url}/api/webhooks/vipps"))
        {
            settings[$"Vipps:Merchants:{merchant}:WebhookSecret"] = secret;
        }

        adjust?.Invoke(settings);
        StartOptions = new FunctionsHostStartOptions
        {
            Urls = url,
            ConfigureServices = services => services.AddSingleton<ILoggerProvider>(new QueueLoggerProvider(Logs)),
        };
        foreach (var (key, value) in settings)
        {
            StartOptions.Settings[key] = value;
        }

        Host = await FunctionsHostApp.StartAsync(StartOptions);
    }

    public HttpClient Client(string? bearer = null, bool operatorKey = false)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (operatorKey)
        {
            client.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
        }

        return client;
    }

    /// <summary>Provisions a machine through the operator route; returns its api key.</summary>
    public async Task<string> ProvisionMachineAsync(string machineId)
    {
        using var client = Client(operatorKey: true);
        using var response = await client.PostAsJsonAsync("api/operator/machines", new
        {
            machineId, name = machineId, location = "Host test", merchantId = "vippsno", currency = "NOK", captureMode = "OnDelivery", qrFormat = "svg",
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Provisioning answered {(int)response.StatusCode}: {body}{Environment.NewLine}{ErrorLogs()}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("apiKey").GetString()!;
    }

    /// <summary>The warnings and errors logged so far, for a failing assertion's message.</summary>
    public string ErrorLogs() => string.Join(Environment.NewLine, Logs.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)));

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds} s: {what}{Environment.NewLine}{detail?.Invoke()}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        if (_hostJsonPath is not null && File.Exists(_hostJsonPath))
        {
            File.Delete(_hostJsonPath);
        }
    }

    private static Dictionary<string, string?> LocalSettingsSample(string root)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "local.settings.sample.json")));
        return document.RootElement.GetProperty("Values").EnumerateObject()
            .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.GetString(), StringComparer.OrdinalIgnoreCase);
    }

    private static async Task<List<(string Merchant, string Secret)>> RegisterWebhooksAsync(Dictionary<string, string?> settings, string url)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddVippsClient(configuration);
        await using var provider = services.BuildServiceProvider();
        var webhooks = provider.GetRequiredService<IVippsWebhooksClient>();
        var vipps = configuration.GetSection(VippsOptions.SectionName).Get<VippsOptions>()!;
        var secrets = new List<(string, string)>();
        foreach (var merchant in vipps.Merchants.Keys)
        {
            var registration = await webhooks.RegisterAsync(merchant, url, WebhookEventTypes.All, CancellationToken.None);
            secrets.Add((merchant, registration.Secret));
        }

        return secrets;
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
