using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Commands;
using Vending.Core.Machines;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;

namespace Vending.Core.Tests;

public class CompositionTests
{
    private static Dictionary<string, string?> Settings() => new()
    {
        ["VendingStorage"] = "UseDevelopmentStorage=true",
        ["Vending:PublicBaseUrl"] = "http://127.0.0.1:7072",
        ["Vipps:BaseUrl"] = "http://127.0.0.1:7071",
        ["Vipps:Merchants:vippsno:MerchantSerialNumber"] = "123456",
        ["Vipps:Merchants:vippsno:ClientId"] = "id",
        ["Vipps:Merchants:vippsno:ClientSecret"] = "secret",
        ["Vipps:Merchants:vippsno:SubscriptionKey"] = "key",
        ["Vipps:Merchants:vippsno:Currencies:0"] = "NOK",
    };

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddVending(configuration);
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
    }

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

    [Fact]
    public void Options_have_the_documented_defaults()
    {
        using var provider = Build(Settings());
        var options = provider.GetRequiredService<IOptions<VendingOptions>>().Value;

        Assert.Equal((120, 86400, 300), (options.VendReportDeadlineSeconds, options.SecretRotationGraceSeconds, options.WebhookClockSkewSeconds));
    }
}
