using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using VippsSimulator.Auth;
using VippsSimulator.Control;
using VippsSimulator.Customer;
using VippsSimulator.Faults;
using VippsSimulator.Http;
using VippsSimulator.Payments;
using VippsSimulator.Qr;
using VippsSimulator.Webhooks;

namespace VippsSimulator.Hosting;

/// <summary>
/// The one place the simulator is put together: <c>dotnet run</c> (<see cref="Program"/>), <see cref="StartAsync"/> for
/// other test projects, and <c>WebApplicationFactory&lt;Program&gt;</c> all build the same app.
/// </summary>
public static class SimulatorApp
{
    /// <summary>
    /// Starts a simulator on real Kestrel at http://127.0.0.1:<paramref name="port"/> (0: a free port). Configuration is the
    /// built-in defaults (the two test merchants) overlaid with <paramref name="settings"/> (keys like
    /// <c>Simulator:PaymentExpirySeconds</c>); environment variables are ignored so tests are isolated from the shell.
    /// </summary>
    public static async Task<RunningSimulator> StartAsync(int port = 0, IDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(SimulatorApp).Assembly.GetName().Name,
        });
        builder.Configuration.Sources.Clear();
        AddDefaults(builder.Configuration);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Quiet by default inside someone else's test run; settings can turn it up.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:VippsSimulator"] = "Warning",
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        var app = Build(builder, clock);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningSimulator(app, address.Replace("[::]", "127.0.0.1").TrimEnd('/'));
    }

    /// <summary>The builder for <c>dotnet run</c>: defaults, then environment variables and command line (e.g. --urls, --Simulator:AllowHttpLoopbackWebhooks=true).</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // The defaults go first so that everything the host adds (environment, command line) overrides them.
        builder.Configuration.Sources.Insert(0, DefaultsSource());
        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder, TimeProvider? clock = null)
    {
        builder.Services.AddVippsSimulator(clock);
        var app = builder.Build();
        app.MapGet("/", () => Results.Text("Vipps MobilePay simulator. See docs/simulator.md; /_sim/merchants lists the test credentials."));
        app.MapAccessToken();
        app.MapEPayment();
        app.MapWebhooks();
        app.MapQrImages();
        app.MapCustomerPage();
        app.MapSimulatorControl();
        return app;
    }

    public static IServiceCollection AddVippsSimulator(this IServiceCollection services, TimeProvider? clock = null)
    {
        services.AddOptions<SimulatorOptions>().BindConfiguration(SimulatorOptions.SectionName);
        services.AddSingleton(new SimulatorClock(clock ?? TimeProvider.System));
        services.AddSingleton<MerchantDirectory>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<FaultInjector>();
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<VippsRequestPipeline>();
        services.AddSingleton<PaymentStore>();
        services.AddSingleton<PaymentService>();
        services.AddSingleton<SimulatorLedger>();
        services.AddSingleton<WebhookRegistry>();
        services.AddSingleton<WebhookDeliveryLog>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddSingleton<IPaymentEventSink>(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddHostedService<ExpirySweeper>();
        return services;
    }

    private static void AddDefaults(IConfigurationBuilder configuration) => configuration.Sources.Add(DefaultsSource());

    /// <summary>appsettings.json, embedded in the assembly so every way of starting reads the same defaults.</summary>
    private static IConfigurationSource DefaultsSource()
    {
        var stream = typeof(SimulatorApp).Assembly.GetManifestResourceStream("VippsSimulator.appsettings.json")
            ?? throw new InvalidOperationException("The embedded appsettings.json is missing.");
        using var reader = new StreamReader(stream);
        var json = reader.ReadToEnd();
        return new Microsoft.Extensions.Configuration.Json.JsonStreamConfigurationSource { Stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)) };
    }
}
