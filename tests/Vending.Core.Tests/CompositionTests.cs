using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Commands;
using Vending.Core.Composition;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Operator.Access;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Webhooks;
using Vending.Testing;

namespace Vending.Core.Tests;

/// <summary>The composition root, <see cref="VendingFunctionApp.AddVendingFunctionApp"/>, as the Function App and the
/// runner call it (the worker host itself is built in tests/Architecture.Tests/WorkerHostTests).</summary>
public class CompositionTests
{
    private static Dictionary<string, string?> Settings() => MinimalAppSettings.Create();

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection().AddLogging().AddVendingFunctionApp(Configuration(settings));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void Everything_resolves_without_touching_the_network()
    {
        using var provider = Build(Settings());

        provider.GetRequiredService<IStartupValidator>().Validate();
        // Each service is the product's own implementation (not a stand-in left registered first) and one instance
        // per app: the in-process notifier and caches only work if every caller shares them.
        AssertSingleton<ISaleService, SaleService>(provider);
        Assert.Same(provider.GetRequiredService<ISaleService>(), provider.GetRequiredService<ISaleOperatorService>());
        AssertSingleton<IMachineDirectory, MachineDirectory>(provider);
        AssertSingleton<IMachineSeeder, MachineSeeder>(provider);
        AssertSingleton<ISaleCommandProcessor, SaleCommandProcessor>(provider);
        AssertSingleton<IReconciler, Reconciler>(provider);
        // Webhooks verify against the configured secrets and the stored registrations' (once a Replace over a
        // configuration-only provider registered first; now the only registration).
        AssertSingleton<IWebhookSecretProvider, StoredWebhookSecretProvider>(provider);
        // ... and the same instance the registrar invalidates after storing a secret (its optional constructor
        // parameter): were the concrete type not registered, it would get null and webhooks would fail on a stale cache.
        Assert.Same(provider.GetRequiredService<IWebhookSecretProvider>(), provider.GetRequiredService<StoredWebhookSecretProvider>());
        AssertSingleton<WebhookWatchdog, WebhookWatchdog>(provider);

        // The HTTP adapters live per invocation, as a function's.
        using var scope = provider.CreateScope();
        Assert.NotNull(scope.ServiceProvider.GetService<HttpApi>());
        Assert.NotNull(scope.ServiceProvider.GetService<OperatorApi>());
    }

    /// <summary>Our own services (and the clock), by service type: each registered exactly once, so no registration
    /// silently shadows or is shadowed by another part's.</summary>
    [Fact]
    public void Each_of_our_services_is_registered_once()
    {
        var services = new ServiceCollection().AddVendingFunctionApp(Configuration(Settings()));

        var ours = new[] { typeof(VendingFunctionApp).Assembly, typeof(Sale).Assembly, typeof(Vending.Vipps.VippsOptions).Assembly };
        var repeated = services
            .Where(d => ours.Contains(d.ServiceType.Assembly) || d.ServiceType == typeof(TimeProvider))
            .GroupBy(d => d.ServiceType)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key.FullName} x{g.Count()}")
            .ToList();

        Assert.Empty(repeated);
        Assert.Contains(services, d => d.ServiceType == typeof(ISaleService));
        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));
    }

    /// <summary>The parts neither replace nor test for one another's registrations: in reverse order they register
    /// exactly the same services, lifetimes and implementations.</summary>
    [Fact]
    public void The_parts_register_the_same_services_in_any_order()
    {
        var configuration = Configuration(Settings());
        var inOrder = new ServiceCollection().AddVendingFunctionApp(configuration);
        var reversed = new ServiceCollection();
        foreach (var part in VendingFunctionApp.Parts.Reverse())
        {
            part(reversed, configuration);
        }

        Assert.True(VendingFunctionApp.Parts.Count > 5);
        Assert.Equal(Signatures(inOrder), Signatures(reversed));
    }

    private static List<string> Signatures(IServiceCollection services) => services
        .Select(d => $"{d.ServiceType.FullName} {d.Lifetime} {d.ServiceKey} "
            + (d.IsKeyedService
                ? d.KeyedImplementationType?.FullName ?? d.KeyedImplementationInstance?.GetType().FullName ?? "factory"
                : d.ImplementationType?.FullName ?? d.ImplementationInstance?.GetType().FullName ?? "factory"))
        .Order(StringComparer.Ordinal)
        .ToList();

    private static void AssertSingleton<TService, TImplementation>(ServiceProvider provider)
        where TService : class
    {
        var first = provider.GetRequiredService<TService>();
        Assert.IsType<TImplementation>(first);
        Assert.Same(first, provider.GetRequiredService<TService>());
    }

    [Fact]
    public void A_missing_setting_fails_at_start_with_its_name()
    {
        var settings = Settings();
        settings.Remove("Vending:PublicBaseUrl");
        using var provider = Build(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("PublicBaseUrl", failure.Message);
    }

    [Theory]
    [InlineData("/relative")]
    [InlineData("ftp://vending.example")]
    public void A_public_base_url_that_is_not_absolute_http_fails_at_start(string url)
    {
        var settings = Settings();
        settings["Vending:PublicBaseUrl"] = url;
        using var provider = Build(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Vending:PublicBaseUrl must be an absolute http(s) URL", failure.Message);
    }

    [Fact]
    public void Options_have_the_documented_defaults()
    {
        using var provider = Build(Settings());
        var options = provider.GetRequiredService<IOptions<VendingOptions>>().Value;

        Assert.Equal((120, 86400, 300), (options.VendReportDeadlineSeconds, options.SecretRotationGraceSeconds, options.WebhookClockSkewSeconds));
    }
}
