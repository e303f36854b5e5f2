using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Vending.Core.Storage;
using Vending.Core.Webhooks;
using Vending.Stack.Clients;
using Vending.Stack.Instances;
using Vending.Testing;
using Vending.Vipps;
using Vending.Vipps.Webhooks;
using VippsSimulator.Hosting;

namespace Vending.Stack;

/// <summary>
/// The whole product on loopback, booted in one order by one piece of code: Azurite, the Vipps simulator on real
/// Kestrel, N instances of the Function App over the same storage (behind a round-robin front when N &gt; 1), the
/// webhook registration (through the product's own <c>webhooks/ensure</c>), then machines through the operator API.
/// Every part talks to the others over loopback HTTP exactly as in Azure; only the hosting is local.
/// <c>./run.sh</c> (tools/DevStack), the end-to-end tests and the load harness all start it here.
/// </summary>
public sealed class VendingStack : IAsyncDisposable
{
    private readonly StackOptions _options;
    private readonly ConcurrentBag<string> _secrets = new();
    private readonly List<IFunctionAppInstance> _instances = new();
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string?> _wiring = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _ownedFiles = new();
    private Azurite? _azurite;
    private RoundRobinFront? _front;
    private bool _ownsWorkDirectory;

    private VendingStack(StackOptions options)
    {
        if (options.Instances < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "At least one instance.");
        }

        _options = options;
    }

    public StackOptions Options => _options;

    /// <summary>Where machines, operators and Vipps' webhooks reach the app: the front when there are several instances, else the instance.</summary>
    public Uri AppUrl { get; private set; } = null!;

    public RunningSimulator Simulator { get; private set; } = null!;

    /// <summary>Azurite's own connection string (tests and the harness read storage with it).</summary>
    public string StorageConnectionString => _azurite!.ConnectionString;

    public Azurite Azurite => _azurite!;

    /// <summary>The JSON-lines file the outbox publishes payment events to (<c>Events:LocalSinkPath</c>).</summary>
    public string EventsPath { get; private set; } = null!;

    public string WorkDirectory { get; private set; } = null!;

    public IReadOnlyList<IFunctionAppInstance> Instances => _instances;

    /// <summary>The front before several instances (null with one).</summary>
    public RoundRobinFront? Front => _front;

    /// <summary>The settings the app runs with (the sample's values under the stack's), secrets included, and the
    /// webhook secret per merchant that registration produced (<c>Vipps:Merchants:{id}:WebhookSecret</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>Values that must never appear in logs or answers: webhook secrets, Vipps client secrets and
    /// subscription keys, the function key, and the secret part of every api key provisioned through this stack.</summary>
    public IReadOnlyCollection<string> Secrets => _secrets.ToArray();

    public string FunctionKey => _options.FunctionKey;

    public static async Task<VendingStack> StartAsync(StackOptions options, CancellationToken cancellationToken = default)
    {
        var stack = new VendingStack(options);
        try
        {
            await stack.BootAsync(cancellationToken);
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }

        return stack;
    }

    private void Log(string line) => _options.Log?.Invoke(line);

    private async Task BootAsync(CancellationToken cancellationToken)
    {
        var root = Azurite.RepositoryRoot();
        WorkDirectory = _options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), "vending-stack", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..32]);
        _ownsWorkDirectory = _options.WorkDirectory is null;
        Directory.CreateDirectory(WorkDirectory);

        // 1. Storage.
        Log("Starting Azurite (in memory) ...");
        _azurite = await Azurite.StartAsync(_options.AzuritePort, cancellationToken);
        var storage = _options.StorageConnection is { } connection ? await connection(_azurite) : _azurite.ConnectionString;

        // 2. Vipps.
        Log("Starting the Vipps MobilePay simulator ...");
        var simulatorSettings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            // The app listens on plain http on loopback; real Vipps demands https.
            ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
        };
        if (_options.PaymentExpirySeconds is { } expiry)
        {
            simulatorSettings["Simulator:PaymentExpirySeconds"] = expiry.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in _options.SimulatorSettings)
        {
            simulatorSettings[key] = value;
        }

        Simulator = await SimulatorApp.StartAsync(_options.SimulatorPort, simulatorSettings);

        // 3. The app's settings: the sample's values, the stack's wiring, then the caller's.
        var appPort = _options.AppPort == 0 ? Azurite.FreePort() : _options.AppPort;
        AppUrl = new Uri($"http://127.0.0.1:{appPort}/");
        EventsPath = _options.EventsPath ?? Own(Path.Combine(WorkDirectory, "events.jsonl"));
        var localSettings = _options.LocalSettingsPath ?? Path.Combine(root, "local.settings.sample.json");
        var wiring = _wiring;
        foreach (var (key, value) in new Dictionary<string, string?>
        {
            ["FunctionsHost:LocalSettingsPath"] = localSettings,
            ["FunctionsHost:FunctionKey"] = _options.FunctionKey,
            ["VendingStorage"] = storage,
            ["AzureWebJobsStorage"] = storage,
            ["Vipps:BaseUrl"] = Simulator.BaseUrl,
            ["Vending:PublicBaseUrl"] = AppUrl.ToString().TrimEnd('/'),
            ["Events:LocalSinkPath"] = EventsPath,
        })
        {
            wiring[key] = value;
        }

        if (_options.TimerIntervalSeconds is { } interval)
        {
            wiring["FunctionsHost:TimerIntervalSeconds"] = interval.ToString(CultureInfo.InvariantCulture);
        }

        if (_options.VendReportDeadlineSeconds is { } deadline)
        {
            wiring["Vending:VendReportDeadlineSeconds"] = deadline.ToString(CultureInfo.InvariantCulture);
        }

        if (_options.QueueMaxPollingInterval is { } polling)
        {
            wiring["FunctionsHost:HostJsonPath"] = await HostJsonPollingAsync(root, polling, cancellationToken);
        }

        foreach (var (key, value) in _options.AppSettings)
        {
            wiring[key] = value;
        }

        foreach (var (key, value) in LocalSettingsValues(wiring["FunctionsHost:LocalSettingsPath"]!))
        {
            _settings[key] = value;
        }

        foreach (var (key, value) in wiring)
        {
            _settings[key] = value;
        }

        if (_options.Webhooks == WebhookSetup.ConfiguredSecret)
        {
            Log("Registering the webhook of each merchant with Vipps ...");
            foreach (var (merchant, secret) in await RegisterWebhooksByHandAsync($"{AppUrl}api/webhooks/vipps", cancellationToken))
            {
                wiring[$"Vipps:Merchants:{merchant}:WebhookSecret"] = secret;
                _settings[$"Vipps:Merchants:{merchant}:WebhookSecret"] = secret;
            }
        }

        foreach (var (key, value) in _settings)
        {
            if (value is { Length: >= 8 } && (key.EndsWith(":WebhookSecret", StringComparison.OrdinalIgnoreCase)
                || key.EndsWith(":ClientSecret", StringComparison.OrdinalIgnoreCase)
                || key.EndsWith(":SubscriptionKey", StringComparison.OrdinalIgnoreCase)
                || key.Equals("FunctionsHost:FunctionKey", StringComparison.OrdinalIgnoreCase)))
            {
                _secrets.Add(value);
            }
        }

        // 4. The instances, and the front before them.
        var ids = Enumerable.Range(0, _options.Instances).Select(i => $"i{i}").ToList();
        foreach (var id in ids)
        {
            var url = _options.Instances == 1 ? AppUrl : new Uri($"http://127.0.0.1:{Azurite.FreePort()}/");
            _instances.Add(_options.FunctionAppFactory(new FunctionAppInstanceSpec(
                id, url, wiring, _options.EnvironmentName, Path.Combine(WorkDirectory, $"app-{id}.log"))));
        }

        Log(_options.Instances == 1
            ? "Starting the Function App (its HTTP, queue and timer functions) ..."
            : $"Starting {_options.Instances} instances of the Function App over the same storage, round robin behind {AppUrl} ...");
        await Task.WhenAll(_instances.Select(i => i.StartAsync(cancellationToken)));
        if (_options.Instances > 1)
        {
            _front = await RoundRobinFront.StartAsync(appPort, _instances.Select(i => (i.Id, i.BaseUrl)).ToList(), cancellationToken);
        }

        // 5. Webhooks through the product's own operator route, now that something answers at the public URL.
        if (_options.Webhooks == WebhookSetup.Ensure)
        {
            Log("Registering the webhooks (POST /api/operator/webhooks/ensure) ...");
            using var operatorClient = NewOperatorClient();
            await operatorClient.EnsureWebhooksAsync(cancellationToken);
            var store = new TableWebhookRegistrationStore(new VendingTables(new TableServiceClient(_azurite.ConnectionString)));
            foreach (var registration in await store.ListAsync(cancellationToken))
            {
                if (registration.Secret is { } secret)
                {
                    _settings[$"Vipps:Merchants:{registration.MerchantId}:WebhookSecret"] = secret;
                    _secrets.Add(secret);
                }
            }
        }
    }

    /// <summary>An operator client on the app with the function key; <paramref name="handler"/> is where a test adds a recording handler.</summary>
    public OperatorApiClient NewOperatorClient(HttpMessageHandler? handler = null) => new(AppUrl, _options.FunctionKey, handler);

    /// <summary>A machine client on the app with the machine's key.</summary>
    public MachineApiClient NewMachineClient(ProvisionedMachine machine, HttpMessageHandler? handler = null) => new(AppUrl, machine, handler);

    /// <summary>Notes the secret part of a provisioned machine's api key, so checks for leaked secrets include it.</summary>
    public ProvisionedMachine Remember(ProvisionedMachine machine)
    {
        _secrets.Add(machine.ApiKey[(machine.ApiKey.IndexOf('.') + 1)..]);
        return machine;
    }

    /// <summary>Changes one app setting for every instance from its next start on (e.g. timers on after a calibration).</summary>
    public void SetAppSetting(string key, string? value)
    {
        _wiring[key] = value;
        _settings[key] = value;
    }

    /// <summary>Stops every instance (until <see cref="StartInstancesAsync"/>): nothing answers behind <see cref="AppUrl"/>.</summary>
    public async Task StopInstancesAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.StopAsync();
        }
    }

    /// <summary>Starts every stopped instance again, on its own port, with the same storage and settings.</summary>
    public Task StartInstancesAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_instances.Where(i => !i.IsRunning).Select(i => i.StartAsync(cancellationToken)));

    /// <summary>Instances die and others take their place: sales in flight must converge from what is in storage.</summary>
    public async Task RestartInstancesAsync(CancellationToken cancellationToken = default)
    {
        await StopInstancesAsync();
        await StartInstancesAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_front is not null)
        {
            await _front.DisposeAsync();
        }

        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        foreach (var path in _ownedFiles.Where(File.Exists))
        {
            File.Delete(path);
        }

        if (_ownsWorkDirectory && Directory.Exists(WorkDirectory) && !Directory.EnumerateFileSystemEntries(WorkDirectory).Any())
        {
            Directory.Delete(WorkDirectory);
        }
    }

    private string Own(string path)
    {
        _ownedFiles.Add(path);
        return path;
    }

    // The product's host.json with a faster queue poll (a queue command is picked up within a quarter second).
    private async Task<string> HostJsonPollingAsync(string root, TimeSpan polling, CancellationToken cancellationToken)
    {
        var hostJson = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root, "host.json"), cancellationToken))!;
        hostJson["extensions"]!["queues"]!["maxPollingInterval"] = polling.ToString("c", CultureInfo.InvariantCulture);
        var path = Own(Path.Combine(WorkDirectory, "host.json"));
        await File.WriteAllTextAsync(path, hostJson.ToJsonString(), cancellationToken);
        return path;
    }

    private static Dictionary<string, string?> LocalSettingsValues(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.TryGetProperty("Values", out var values)
            ? values.EnumerateObject().ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.GetString(), StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
    }

    // Exactly one registration per merchant for our URL, made at Vipps with the app's own client (strays at our URL
    // deleted first: a registration's secret is shown only once).
    private async Task<List<(string Merchant, string Secret)>> RegisterWebhooksByHandAsync(string url, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        var services = new ServiceCollection().AddLogging().AddVippsClient(configuration);
        await using var provider = services.BuildServiceProvider();
        var webhooks = provider.GetRequiredService<IVippsWebhooksClient>();
        var vipps = configuration.GetSection(VippsOptions.SectionName).Get<VippsOptions>()!;
        var secrets = new List<(string, string)>();
        foreach (var merchant in vipps.Merchants.Keys)
        {
            foreach (var stray in (await webhooks.ListAsync(merchant, cancellationToken)).Where(w => w.Url == url))
            {
                await webhooks.DeleteAsync(merchant, stray.Id, cancellationToken);
            }

            var registration = await webhooks.RegisterAsync(merchant, url, WebhookEventTypes.All, cancellationToken);
            secrets.Add((merchant, registration.Secret));
        }

        return secrets;
    }
}
