using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Vending.Core.Http;

public static class HttpApiServiceCollectionExtensions
{
    /// <summary>
    /// The HTTP layer's services: body limits, machine authentication, webhook verification, error mapping. Safe to call
    /// more than once (the composition root may call it too). Scoped, like a function invocation, because the
    /// machine directory they use may be.
    /// </summary>
    public static IServiceCollection AddVendingHttpApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(HttpApi)))
        {
            return services;
        }

        services.AddOptions<HttpApiOptions>()
            .Bind(configuration.GetSection(HttpApiOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IWebhookSecretProvider, VippsOptionsWebhookSecretProvider>();
        services.TryAddSingleton<RequestBodyReader>();
        services.TryAddScoped<MachineAuthenticator>();
        services.TryAddScoped<IStaleWebhookPoller, SaleEventLogPoller>();
        services.TryAddScoped<WebhookReceiver>();
        services.TryAddScoped<HttpApi>();
        return services;
    }
}
