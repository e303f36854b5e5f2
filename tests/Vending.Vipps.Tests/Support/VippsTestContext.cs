using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vending.Vipps.EPayment;
using Vending.Vipps.Webhooks;

namespace Vending.Vipps.Tests.Support;

/// <summary>The client as the product wires it (<see cref="ServiceCollectionExtensions.AddVippsClient"/>), over a fake Vipps.</summary>
internal sealed class VippsTestContext : IDisposable
{
    public const string Norway = "vippsno";
    public const string Denmark = "mobilepaydk";

    public VippsTestContext(Action<Dictionary<string, string?>>? configure = null, TimeProvider? timeProvider = null)
    {
        var settings = DefaultSettings();
        configure?.Invoke(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var services = new ServiceCollection();
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        services.AddVippsClient(configuration);
        services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(() => Handler));
        Services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public FakeVippsHandler Handler { get; } = new();

    /// <summary>Every log line the client wrote, rendered.</summary>
    public RecordingLoggerProvider Logs { get; } = new();

    public ServiceProvider Services { get; }

    public IVippsEPaymentClient EPayment => Services.GetRequiredService<IVippsEPaymentClient>();

    public IVippsWebhooksClient Webhooks => Services.GetRequiredService<IVippsWebhooksClient>();

    public static Dictionary<string, string?> DefaultSettings() => new()
    {
        ["Vipps:BaseUrl"] = "http://vipps.test",
        ["Vipps:AttemptTimeoutSeconds"] = "10",
        ["Vipps:TotalTimeoutSeconds"] = "30",
        ["Vipps:MaxRetryAttempts"] = "3",
        // Backoff still runs (exponential, jittered) but in milliseconds, so retry tests stay fast.
        ["Vipps:RetryBaseDelayMilliseconds"] = "1",
        ["Vipps:SystemName"] = "vending-test",
        ["Vipps:SystemVersion"] = "2.3.4",
        ["Vipps:PluginName"] = "vending-vipps-client",
        ["Vipps:PluginVersion"] = "1.0.0",
        [$"Vipps:Merchants:{Norway}:MerchantSerialNumber"] = "123456",
        [$"Vipps:Merchants:{Norway}:ClientId"] = "client-no",
        [$"Vipps:Merchants:{Norway}:ClientSecret"] = "secret-no",
        [$"Vipps:Merchants:{Norway}:SubscriptionKey"] = "subscription-no",
        [$"Vipps:Merchants:{Norway}:Currencies:0"] = "NOK",
        [$"Vipps:Merchants:{Denmark}:MerchantSerialNumber"] = "654321",
        [$"Vipps:Merchants:{Denmark}:ClientId"] = "client-dk",
        [$"Vipps:Merchants:{Denmark}:ClientSecret"] = "secret-dk",
        [$"Vipps:Merchants:{Denmark}:SubscriptionKey"] = "subscription-dk",
        [$"Vipps:Merchants:{Denmark}:Currencies:0"] = "DKK",
        [$"Vipps:Merchants:{Denmark}:Currencies:1"] = "EUR",
        [$"Vipps:Merchants:{Denmark}:Brand"] = "MobilePay",
    };

    public void Dispose() => Services.Dispose();
}

/// <summary>A clock the test moves by hand; timers stay real (only the token cache reads this clock's "now").</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref utcTicks, by.Ticks);
}

/// <summary>Keeps every log line (level and rendered message) for assertions.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Category, string Message)> lines = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Lines => lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.lines.Enqueue((logLevel, category, formatter(state, exception)));
    }
}
