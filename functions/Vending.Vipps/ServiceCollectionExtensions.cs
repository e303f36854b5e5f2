using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Vending.Vipps.Authentication;
using Vending.Vipps.EPayment;
using Vending.Vipps.Http;
using Vending.Vipps.Webhooks;

namespace Vending.Vipps;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IVippsEPaymentClient"/> and <see cref="IVippsWebhooksClient"/> as typed HttpClients with the
    /// Vipps resilience pipeline, the per-merchant access-token cache, and <see cref="VippsOptions"/> bound from the
    /// section <c>Vipps</c> and validated when the host starts. Nothing here touches the network: the first token is
    /// fetched by the first API call (cold starts on Functions punish start-up calls).
    /// </summary>
    public static IServiceCollection AddVippsClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<VippsOptions>()
            .Bind(configuration.GetSection(VippsOptions.SectionName))
            .ValidateDataAnnotations()
            .PostConfigure(KeyVaultReferences.ClearUnresolvedWebhookSecrets)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VippsOptions>, VippsOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IVippsAccessTokenProvider, VippsAccessTokenProvider>();

        services.AddHttpClient(VippsHttpClientNames.AccessToken, ConfigureHttpClient)
            .AddResilienceHandler("vipps", VippsResilience.Configure);

        services.AddHttpClient<IVippsEPaymentClient, VippsEPaymentClient>(ConfigureHttpClient)
            .AddResilienceHandler("vipps", VippsResilience.Configure);

        services.AddHttpClient<IVippsWebhooksClient, VippsWebhooksClient>(ConfigureHttpClient)
            .AddResilienceHandler("vipps", VippsResilience.Configure);

        return services;
    }

    private static void ConfigureHttpClient(IServiceProvider serviceProvider, HttpClient client)
    {
        var options = serviceProvider.GetRequiredService<IOptions<VippsOptions>>().Value;

        // Relative request paths resolve below the base only when it ends with a slash (the base may carry a path prefix).
        var baseUrl = options.BaseUrl.ToString();
        client.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");

        // The resilience pipeline owns the timeouts; this is only a backstop above its total timeout.
        client.Timeout = TimeSpan.FromSeconds(options.TotalTimeoutSeconds + 5);
    }
}
