global using ApiAnswer = Vending.Stack.Clients.ApiAnswer;
global using MachineClient = Vending.Stack.Clients.MachineApiClient;
global using ProvisionedMachine = Vending.Stack.Clients.ProvisionedMachine;
global using SaleLine = Vending.Stack.Clients.SaleLine;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Vending.Stack;
using Vending.Stack.Clients;
using Vending.Stack.Instances;
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

    /// <summary>Instances of the Function App over the same storage, round robin behind one front when more than one.</summary>
    public int Instances { get; init; } = 1;

    /// <summary>How webhooks are registered: through <c>webhooks/ensure</c> (default) or by hand with the secret configured.</summary>
    public WebhookSetup Webhooks { get; init; } = WebhookSetup.Ensure;

    /// <summary>Extra simulator settings (keys like <c>Simulator:PaymentExpirySeconds</c>), over the fixture's.</summary>
    public Dictionary<string, string?> SimulatorSettings { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extra app settings (keys like <c>Vending:ExpiryGraceSeconds</c>), over the fixture's: the only way a
    /// test changes the app, as an operator would (the app runs in a child process; nothing is injected into it).</summary>
    public Dictionary<string, string?> RunnerSettings { get; init; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// The whole product on loopback for the end-to-end tests: the stack library (<see cref="VendingStack"/>, profile
/// <see cref="StackProfile.EndToEnd"/>, every instance a child process) plus what tests need around it: the
/// instances' log files read as records, a recorder of every answer
/// (checked against docs/openapi.yaml on dispose), the event sink, and waits on conditions. Use as
/// <c>IClassFixture&lt;ProductStack&gt;</c> (one stack per test class, unique machine ids per test) or
/// <c>await using var stack = await ProductStack.StartAsync(options)</c>.
/// </summary>
public class ProductStack : IAsyncLifetime, IAsyncDisposable
{
    public const string FunctionKey = "e2e-function-key";

    private readonly ProductStackOptions _options;
    private VendingStack? _stack;
    private OperatorApiClient? _operator;
    private ServiceProvider? _vipps;

    public ProductStack()
        : this(new ProductStackOptions())
    {
    }

    protected ProductStack(ProductStackOptions options)
    {
        _options = options;
        Logs = new InstanceLogs(() => Stack.WorkDirectory);
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

    /// <summary>The stack underneath (instances, front, storage).</summary>
    public VendingStack Stack => _stack ?? throw new InvalidOperationException("The stack is not started.");

    /// <summary>The app's base address, e.g. <c>http://127.0.0.1:41234/</c>: the instance, or the front before several
    /// (the same across <see cref="RestartRunnerAsync"/>).</summary>
    public Uri RunnerUrl => Stack.AppUrl;

    public RunningSimulator Simulator => Stack.Simulator;

    public string StorageConnectionString => Stack.StorageConnectionString;

    /// <summary>The JSON-lines file the app's outbox publishes payment events to (<c>Events:LocalSinkPath</c>).</summary>
    public string EventsPath => Stack.EventsPath;

    /// <summary>Every log record of the app (all instances, across restarts), read from their log files.</summary>
    public InstanceLogs Logs { get; }

    /// <summary>The settings the app runs with (secrets included, and each merchant's webhook secret), for tests
    /// that sign webhooks or check where secrets must not appear.</summary>
    public IReadOnlyDictionary<string, string?> Settings => Stack.Settings;

    /// <summary>Values that must never appear in logs or answers: webhook secrets, Vipps client secrets and
    /// subscription keys, the function key, and the secret part of every api key provisioned through this stack.</summary>
    public IReadOnlyCollection<string> Secrets => Stack.Secrets;

    /// <summary>An HttpClient on the app with the operator's function key.</summary>
    public HttpClient Operator => (_operator ?? throw new InvalidOperationException("The stack is not started.")).Http;

    /// <summary>Every answer the operator client and this stack's machine clients received: checked against
    /// docs/openapi.yaml when the stack is disposed (a test that got an undocumented answer fails there).</summary>
    public ResponseRecorder Responses { get; } = new();

    /// <summary>A Vipps Webhooks API client of our own, built from the app's settings exactly as the app builds its
    /// own (<c>AddVippsClient</c>): what the app registered at Vipps, seen from outside the app.</summary>
    public IVippsWebhooksClient VippsWebhooks
    {
        get
        {
            if (_vipps is null)
            {
                var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
                _vipps = new ServiceCollection().AddLogging().AddVippsClient(configuration).BuildServiceProvider(validateScopes: true);
            }

            return _vipps.GetRequiredService<IVippsWebhooksClient>();
        }
    }

    public async Task InitializeAsync()
    {
        var options = StackOptions.For(StackProfile.EndToEnd);
        options.FunctionKey = FunctionKey;
        // The app in its own process, as in Azure: tests reach it over HTTP, storage, its log files and its exporters only.
        options.FunctionAppFactory = FunctionAppHosting.ChildProcess;
        options.Instances = _options.Instances;
        options.Webhooks = _options.Webhooks;
        options.TimerIntervalSeconds = _options.TimerIntervalSeconds;
        options.VendReportDeadlineSeconds = _options.VendReportDeadlineSeconds;
        foreach (var (key, value) in InstanceLogs.Settings)
        {
            options.AppSettings[key] = value;
        }

        foreach (var (key, value) in _options.SimulatorSettings)
        {
            options.SimulatorSettings[key] = value;
        }

        foreach (var (key, value) in _options.RunnerSettings)
        {
            options.AppSettings[key] = value;
        }

        _stack = await VendingStack.StartAsync(options);
        _operator = Stack.NewOperatorClient(Responses.Handler());
    }

    /// <summary>Instances die and others take their place: every instance stops, then starts again on its port
    /// with the same storage and settings. Sales in flight must converge from what is in storage.</summary>
    public Task RestartRunnerAsync() => Stack.RestartInstancesAsync();

    /// <summary>Stops every instance (until <see cref="StartRunnerAgainAsync"/>): nothing answers behind <see cref="RunnerUrl"/>.</summary>
    public Task StopRunnerAsync() => Stack.StopInstancesAsync();

    public Task StartRunnerAgainAsync() => Stack.StartInstancesAsync();

    /// <summary>Provisions a machine through <c>POST /api/operator/machines</c> with the function key.</summary>
    public async Task<ProvisionedMachine> ProvisionMachineAsync(
        string machineId, string merchantId = "vippsno", string currency = "NOK", string captureMode = "OnDelivery", string qrFormat = "svg") =>
        Stack.Remember(await _operator!.ProvisionMachineAsync(new MachineRegistration(machineId, $"E2E {machineId}", "Test lab", merchantId, currency, captureMode, qrFormat)));

    /// <summary>A unique machine id (3-32 of a-z, 0-9, -) with a readable prefix.</summary>
    public static string NewMachineId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(32, prefix.Length + 13)];

    /// <summary>Provisions a fresh machine and returns its client.</summary>
    public async Task<MachineClient> NewMachineAsync(
        string prefix, string merchantId = "vippsno", string currency = "NOK", string captureMode = "OnDelivery", string qrFormat = "svg")
    {
        var machine = await ProvisionMachineAsync(NewMachineId(prefix), merchantId, currency, captureMode, qrFormat);
        return Machine(machine);
    }

    /// <summary>The machine's client on the app; every answer it gets is recorded for the contract check.</summary>
    public MachineClient Machine(ProvisionedMachine machine) => Stack.NewMachineClient(machine, Responses.Handler());

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
        _operator?.Dispose();
        if (_vipps is not null)
        {
            await _vipps.DisposeAsync();
        }

        if (_stack is not null)
        {
            await _stack.DisposeAsync();
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
}

/// <summary>The product stack with webhooks registered at Vipps by hand and their secrets configured (as an operator
/// who registered before <c>webhooks/ensure</c> existed): for the tests of adoption.</summary>
public sealed class ConfiguredWebhookSecretStack() : ProductStack(new ProductStackOptions { Webhooks = WebhookSetup.ConfiguredSecret });

/// <summary>
/// The stack of the sale stories. An instance is killed like a crash (SIGKILL), so a capture command it had taken off
/// the queue stays invisible there (5 min) and only the reconciler's stale-command rule sends it again, as in Azure:
/// after <c>Vending:CommandStaleSeconds</c>, here the least allowed (10 s) instead of the product's 120 s.
/// </summary>
public sealed class SaleStoryStack() : ProductStack(new ProductStackOptions { RunnerSettings = { [SaleStoryStack.StaleSetting] = "10" } })
{
    public const string StaleSetting = "Vending:CommandStaleSeconds";
}

/// <summary>The product stack with three instances of the Function App over the same storage, round robin behind one
/// front; commands stale after 10 s, as in <see cref="SaleStoryStack"/> (the restart story kills all three).</summary>
public sealed class ThreeInstanceStack() : ProductStack(new ProductStackOptions { Instances = 3, RunnerSettings = { [SaleStoryStack.StaleSetting] = "10" } });
