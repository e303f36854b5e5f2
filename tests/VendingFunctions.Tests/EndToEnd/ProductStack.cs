using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LocalRunner;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Vending.Testing;
using Vending.Vipps;
using Vending.Vipps.Webhooks;
using VendingFunctions.Tests.Contract;
using VippsSimulator.Hosting;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>How a <see cref="ProductStack"/> is started; the defaults suit fast, honest end-to-end tests on a shared 2-core machine.</summary>
public sealed class ProductStackOptions
{
    /// <summary>Authorized with no vend report for this long: the reconciler releases (product default 120).</summary>
    public int VendReportDeadlineSeconds { get; init; } = 120;

    /// <summary>Interval of every timer (reconciler + outbox sweep) instead of its schedule.</summary>
    public int TimerIntervalSeconds { get; init; } = 1;

    /// <summary>Extra simulator settings (keys like <c>Simulator:PaymentExpirySeconds</c>), over the fixture's.</summary>
    public Dictionary<string, string?> SimulatorSettings { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extra runner settings (keys like <c>Vending:ExpiryGraceSeconds</c>), over the fixture's.</summary>
    public Dictionary<string, string?> RunnerSettings { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extra service registrations of the runner, after the app's own (a probe, never a fake of a real part).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}

/// <summary>
/// The whole product on loopback, wired as <c>tools/DevStack</c> wires it: a real Azurite, the Vipps simulator on
/// real Kestrel, webhook registrations made before the runner starts (their secrets go into
/// <c>Vipps:Merchants:{id}:WebhookSecret</c>), and the local runner (the Function App's own HTTP, queue and timer
/// functions) on real Kestrel. Use as <c>IClassFixture&lt;ProductStack&gt;</c> (one stack per test class, unique
/// machine ids per test) or <c>await using var stack = await ProductStack.StartAsync(options)</c>.
/// </summary>
public class ProductStack : IAsyncLifetime, IAsyncDisposable
{
    public const string FunctionKey = "e2e-function-key";

    private readonly ProductStackOptions _options;
    private readonly ConcurrentBag<string> _secrets = new();
    private Azurite? _azurite;
    private LocalRunnerApp? _runner;
    private string? _hostJsonPath;
    private LocalRunnerStartOptions? _runnerOptions;

    public ProductStack()
        : this(new ProductStackOptions())
    {
    }

    protected ProductStack(ProductStackOptions options)
    {
        _options = options;
    }

    public static async Task<ProductStack> StartAsync(ProductStackOptions? options = null)
    {
        var stack = new ProductStack(options ?? new ProductStackOptions());
        try
        {
            await stack.InitializeAsync();
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }

        return stack;
    }

    /// <summary>The runner's base address, e.g. <c>http://127.0.0.1:41234/</c> (same port across <see cref="RestartRunnerAsync"/>).</summary>
    public Uri RunnerUrl { get; private set; } = null!;

    /// <summary>The running runner (its <c>Services</c> change on restart).</summary>
    public LocalRunnerApp Runner => _runner ?? throw new InvalidOperationException("The runner is stopped.");

    public RunningSimulator Simulator { get; private set; } = null!;

    public string StorageConnectionString => _azurite!.ConnectionString;

    /// <summary>The JSON-lines file the runner's outbox publishes payment events to (<c>Events:LocalSinkPath</c>).</summary>
    public string EventsPath { get; private set; } = null!;

    /// <summary>Every log line of the runner (all instances, across restarts), formatted, with exceptions.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>The settings the runner was started with (secrets included), for tests that check where they must not appear.</summary>
    public IReadOnlyDictionary<string, string?> Settings => (IReadOnlyDictionary<string, string?>)_runnerOptions!.Settings;

    /// <summary>Values that must never appear in logs or answers: webhook secrets, Vipps client secrets and
    /// subscription keys, the function key, and the secret part of every api key provisioned through this stack.</summary>
    public IReadOnlyCollection<string> Secrets => _secrets.ToArray();

    /// <summary>An HttpClient on the runner with the operator's function key.</summary>
    public HttpClient Operator { get; private set; } = null!;

    /// <summary>Every answer the operator client and this stack's machine clients received: checked against
    /// docs/openapi.yaml when the stack is disposed (a test that got an undocumented answer fails there).</summary>
    public ResponseRecorder Responses { get; } = new();

    public async Task InitializeAsync()
    {
        var root = Azurite.RepositoryRoot();
        _azurite = await Azurite.StartAsync();

        var simulatorSettings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
            // Tests hammer one reference more than a merchant would: do not let the limits decide a test.
            ["Simulator:RateLimits:AdjustmentsPerMinute"] = "10000",
            ["Simulator:RateLimits:QueriesPerMinute"] = "100000",
            ["Simulator:Webhooks:RetryDelaysSeconds"] = "0.05,0.1,0.2,0.5",
            ["Simulator:Webhooks:TimeoutSeconds"] = "5",
        };
        foreach (var (key, value) in _options.SimulatorSettings)
        {
            simulatorSettings[key] = value;
        }

        Simulator = await SimulatorApp.StartAsync(0, simulatorSettings);

        var port = Azurite.FreePort();
        RunnerUrl = new Uri($"http://127.0.0.1:{port}/");
        EventsPath = Path.Combine(Path.GetTempPath(), $"vending-e2e-events-{Guid.NewGuid():N}.jsonl");

        // The product's host.json, polling faster: a queue command is picked up within a quarter second.
        _hostJsonPath = Path.Combine(Path.GetTempPath(), $"vending-e2e-host-{Guid.NewGuid():N}.json");
        var hostJson = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root, "host.json")))!;
        hostJson["extensions"]!["queues"]!["maxPollingInterval"] = "00:00:00.250";
        await File.WriteAllTextAsync(_hostJsonPath, hostJson.ToJsonString());

        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            // The runner reads only the repository's sample (what a developer copies), never a developer's own file.
            ["LocalRunner:LocalSettingsPath"] = Path.Combine(root, "local.settings.sample.json"),
            ["LocalRunner:HostJsonPath"] = _hostJsonPath,
            ["LocalRunner:FunctionKey"] = FunctionKey,
            ["LocalRunner:TimerIntervalSeconds"] = _options.TimerIntervalSeconds.ToString(),
            ["VendingStorage"] = _azurite.ConnectionString,
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["Vipps:BaseUrl"] = Simulator.BaseUrl,
            ["Vipps:RetryBaseDelayMilliseconds"] = "50",
            ["Vending:PublicBaseUrl"] = RunnerUrl.ToString().TrimEnd('/'),
            ["Vending:VendReportDeadlineSeconds"] = _options.VendReportDeadlineSeconds.ToString(),
            ["Events:LocalSinkPath"] = EventsPath,
        };
        var sample = LocalSettingsSample(root);
        foreach (var (key, value) in _options.RunnerSettings)
        {
            settings[key] = value;
        }

        // As DevStack: register each merchant's webhook at our URL before the runner starts; the secret is shown once.
        var merged = new Dictionary<string, string?>(sample, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in settings)
        {
            merged[key] = value;
        }

        foreach (var (merchant, secret) in await RegisterWebhooksAsync(merged, $"{RunnerUrl}api/webhooks/vipps"))
        {
            settings[$"Vipps:Merchants:{merchant}:WebhookSecret"] = secret;
            merged[$"Vipps:Merchants:{merchant}:WebhookSecret"] = secret;
        }

        foreach (var (key, value) in merged)
        {
            if (value is { Length: >= 8 } && (key.EndsWith(":WebhookSecret", StringComparison.OrdinalIgnoreCase)
                || key.EndsWith(":ClientSecret", StringComparison.OrdinalIgnoreCase)
                || key.EndsWith(":SubscriptionKey", StringComparison.OrdinalIgnoreCase)
                || key.Equals("LocalRunner:FunctionKey", StringComparison.OrdinalIgnoreCase)))
            {
                _secrets.Add(value);
            }
        }

        _runnerOptions = new LocalRunnerStartOptions
        {
            Urls = RunnerUrl.ToString().TrimEnd('/'),
            ConfigureServices = services =>
            {
                services.AddSingleton<ILoggerProvider>(Logs);
                _options.ConfigureServices?.Invoke(services);
            },
        };
        foreach (var (key, value) in settings)
        {
            _runnerOptions.Settings[key] = value;
        }

        _runner = await StartRunnerAsync();
        Operator = new HttpClient(Responses.Handler()) { BaseAddress = RunnerUrl, Timeout = TimeSpan.FromSeconds(60) };
        Operator.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
    }

    /// <summary>An instance dies and another takes its place: the runner stops, then starts again on the same port
    /// with the same storage and settings. Sales in flight must converge from what is in storage.</summary>
    public async Task RestartRunnerAsync()
    {
        await StopRunnerAsync();
        _runner = await StartRunnerAsync();
    }

    /// <summary>Stops the runner (until <see cref="StartRunnerAgainAsync"/>): nothing answers on <see cref="RunnerUrl"/>.</summary>
    public async Task StopRunnerAsync()
    {
        if (_runner is { } runner)
        {
            _runner = null;
            await runner.DisposeAsync();
        }
    }

    public async Task StartRunnerAgainAsync() => _runner ??= await StartRunnerAsync();

    private async Task<LocalRunnerApp> StartRunnerAsync()
    {
        // The port was just released (or chosen free); a rare bind race is retried briefly.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await LocalRunnerApp.StartAsync(_runnerOptions);
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Provisions a machine through <c>POST /api/operator/machines</c> with the function key.</summary>
    public async Task<ProvisionedMachine> ProvisionMachineAsync(
        string machineId, string merchantId = "vippsno", string currency = "NOK", string captureMode = "OnDelivery", string qrFormat = "svg")
    {
        using var response = await Operator.PostAsJsonAsync("api/operator/machines", new
        {
            machineId,
            name = $"E2E {machineId}",
            location = "Test lab",
            merchantId,
            currency,
            captureMode,
            qrFormat,
        });
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Provisioning {machineId} answered {(int)response.StatusCode}: {body}");
        }

        using var json = JsonDocument.Parse(body);
        var apiKey = json.RootElement.GetProperty("apiKey").GetString()!;
        _secrets.Add(apiKey[(apiKey.IndexOf('.') + 1)..]);
        return new ProvisionedMachine(machineId, apiKey);
    }

    /// <summary>A unique machine id (3-32 of a-z, 0-9, -) with a readable prefix.</summary>
    public static string NewMachineId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(32, prefix.Length + 13)];

    /// <summary>Provisions a fresh machine and returns its client.</summary>
    public async Task<MachineClient> NewMachineAsync(
        string prefix, string merchantId = "vippsno", string currency = "NOK", string captureMode = "OnDelivery", string qrFormat = "svg")
    {
        var machine = await ProvisionMachineAsync(NewMachineId(prefix), merchantId, currency, captureMode, qrFormat);
        return Machine(machine);
    }

    public MachineClient Machine(ProvisionedMachine machine) => new(RunnerUrl, machine, Responses);

    /// <summary>The payment events of one sale in the local sink, in file order (CloudEvents, one JSON document each).</summary>
    public IReadOnlyList<JsonElement> Events(string reference)
    {
        if (!File.Exists(EventsPath))
        {
            return [];
        }

        string text;
        using (var stream = new FileStream(EventsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            text = reader.ReadToEnd();
        }

        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.EndsWith('}'))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .Where(e => e.GetProperty("subject").GetString() == reference)
            .ToList();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> (default 30 s) passes; then fails with <paramref name="what"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null, string? what = null) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds} s: {what ?? "(unnamed)"}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits for a value: polls <paramref name="probe"/> until it returns non-null.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null, string? what = null)
        where T : class
    {
        T? value = null;
        await WaitUntilAsync(async () => (value = await probe()) is not null, timeout, what);
        return value!;
    }

    public async Task DisposeAsync()
    {
        Operator?.Dispose();
        await StopRunnerAsync();
        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        foreach (var path in new[] { _hostJsonPath, EventsPath })
        {
            if (path is not null && File.Exists(path))
            {
                File.Delete(path);
            }
        }

        // The contract: every answer the tests saw must be one the API document describes.
        var violations = Responses.Violations(OpenApiDocument.Current);
        if (violations.Count > 0)
        {
            throw new Xunit.Sdk.XunitException(
                $"{violations.Count} answer(s) of {Responses.Responses.Count} do not match docs/openapi.yaml:\n" + string.Join("\n", violations));
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

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
}

/// <summary>A machine provisioned through the operator route: its id and its api key (<c>{machineId}.{secret}</c>, shown once).</summary>
public sealed record ProvisionedMachine(string MachineId, string ApiKey);

/// <summary>One line of a sale as the machine posts it.</summary>
public sealed record SaleLine(string ProductId, string Name, int Quantity, long UnitPrice, int TaxRate = 2500);

/// <summary>An answer of the machine API: status and JSON body (a sale, or a problem).</summary>
public sealed class ApiAnswer
{
    public ApiAnswer(HttpStatusCode status, string text, HttpResponseHeaders headers)
    {
        Status = status;
        Text = text;
        Headers = headers;
        Json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public HttpStatusCode Status { get; }

    public string Text { get; }

    public JsonElement Json { get; }

    public HttpResponseHeaders Headers { get; }

    public string Reference => Json.GetProperty("reference").GetString()!;

    public string State => Json.GetProperty("state").GetString()!;

    /// <summary>The problem's <c>code</c>, or null.</summary>
    public string? Code => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("code", out var c) ? c.GetString() : null;

    public long Money(string name) => Json.GetProperty(name).GetInt64();

    public ApiAnswer AssertStatus(HttpStatusCode expected)
    {
        if (Status != expected)
        {
            throw new Xunit.Sdk.XunitException($"Expected {(int)expected} but got {(int)Status}: {Text}");
        }

        return this;
    }

    public override string ToString() => $"{(int)Status} {Text}";
}

/// <summary>The machine's side of the API over real HTTP with its Bearer key.</summary>
public sealed class MachineClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public MachineClient(Uri runnerUrl, ProvisionedMachine machine, ResponseRecorder? recorder = null)
    {
        Machine = machine;
        Http = recorder is null ? new HttpClient() : new HttpClient(recorder.Handler());
        Http.BaseAddress = runnerUrl;
        Http.Timeout = TimeSpan.FromSeconds(60);
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", machine.ApiKey);
    }

    public ProvisionedMachine Machine { get; }

    public string MachineId => Machine.MachineId;

    /// <summary>The raw client (base address = the runner, Bearer key set) for requests the helpers do not cover.</summary>
    public HttpClient Http { get; }

    public static SaleLine[] Cola(long unitPrice = 2500, int quantity = 1) => [new SaleLine("cola", "Cola 0.5 l", quantity, unitPrice)];

    /// <summary>POST /api/payments. <paramref name="qrFormat"/> null = the machine's provisioned format.</summary>
    public Task<ApiAnswer> CreateAsync(string machineSaleId, IEnumerable<SaleLine> lines, string currency = "NOK", string? qrFormat = null, int? qrSize = null)
    {
        object body = qrFormat is null
            ? new { machineSaleId, currency, lines }
            : new { machineSaleId, currency, lines, qr = qrSize is null ? (object)new { format = qrFormat } : new { format = qrFormat, size = qrSize } };
        return SendAsync(HttpMethod.Post, "api/payments", body);
    }

    /// <summary>Creates a sale and insists on 201.</summary>
    public async Task<ApiAnswer> CreateSaleAsync(IEnumerable<SaleLine> lines, string currency = "NOK", string? qrFormat = null, string? machineSaleId = null) =>
        (await CreateAsync(machineSaleId ?? $"s-{Guid.NewGuid():N}", lines, currency, qrFormat)).AssertStatus(HttpStatusCode.Created);

    public Task<ApiAnswer> GetAsync(string reference) => SendAsync(HttpMethod.Get, $"api/payments/{reference}", null);

    /// <summary>The long poll: answers when the sale leaves <paramref name="knownState"/> or after <paramref name="waitSeconds"/>.</summary>
    public Task<ApiAnswer> LongPollAsync(string reference, string knownState, int waitSeconds = 25) =>
        SendAsync(HttpMethod.Get, $"api/payments/{reference}?wait={waitSeconds}&state={knownState}", null);

    /// <summary>Long-polls until the sale is in <paramref name="state"/> (fails at the deadline, default 30 s, with the last answer).</summary>
    public async Task<ApiAnswer> WaitForStateAsync(string reference, string state, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        var answer = (await GetAsync(reference)).AssertStatus(HttpStatusCode.OK);
        while (answer.State != state)
        {
            var left = (int)Math.Ceiling((deadline - DateTime.UtcNow).TotalSeconds);
            if (left <= 0)
            {
                throw new TimeoutException($"Sale {reference} did not reach {state} within {limit.TotalSeconds} s; last: {answer.Text}");
            }

            answer = (await LongPollAsync(reference, answer.State, Math.Min(left, 5))).AssertStatus(HttpStatusCode.OK);
        }

        return answer;
    }

    public Task<ApiAnswer> VendAsync(string reference, string outcome, IEnumerable<(string ProductId, int Quantity)>? deliveredLines = null) =>
        SendAsync(HttpMethod.Post, $"api/payments/{reference}/vend", deliveredLines is null
            ? new { outcome }
            : new { outcome, deliveredLines = deliveredLines.Select(l => new { productId = l.ProductId, quantity = l.Quantity }).ToArray() });

    public Task<ApiAnswer> CancelAsync(string reference) => SendAsync(HttpMethod.Post, $"api/payments/{reference}/cancel", null);

    public async Task<ApiAnswer> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        using var response = await Http.SendAsync(request);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers);
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>One log line of the runner.</summary>
public sealed record CapturedLog(DateTimeOffset At, string Category, LogLevel Level, EventId EventId, string Message, string? Exception, IReadOnlyList<KeyValuePair<string, string?>> State)
{
    /// <summary>Everything a log sink could receive: message, exception text and structured values.</summary>
    public string AllText => $"{Category} {Message} {Exception} {string.Join(' ', State.Select(s => $"{s.Key}={s.Value}"))}";

    public override string ToString() => $"{At:HH:mm:ss.fff} {Level} {Category}: {Message}{(Exception is null ? "" : " " + Exception)}";
}

/// <summary>An <see cref="ILoggerProvider"/> that keeps every log line (all levels, scopes' values included) for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Entries => _entries.ToArray();

    /// <summary>The lines whose message, exception or structured values contain <paramref name="text"/>.</summary>
    public IReadOnlyList<CapturedLog> Containing(string text) =>
        Entries.Where(e => e.AllText.Contains(text, StringComparison.Ordinal)).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    // The runner's host disposes its providers on stop; this one outlives restarts, so there is nothing to release.
    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new List<KeyValuePair<string, string?>>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                values.AddRange(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture))));
            }

            owner._scopes.ForEachScope((scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    list.AddRange(scopePairs.Select(p => new KeyValuePair<string, string?>(p.Key, Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture))));
                }
                else if (scope is not null)
                {
                    list.Add(new KeyValuePair<string, string?>("scope", scope.ToString()));
                }
            }, values);

            owner._entries.Enqueue(new CapturedLog(DateTimeOffset.UtcNow, category, logLevel, eventId, formatter(state, exception), exception?.ToString(), values));
        }
    }
}
