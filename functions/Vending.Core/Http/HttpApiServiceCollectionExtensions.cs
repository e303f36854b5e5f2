using Microsoft.Extensions.DependencyInjection;

namespace Vending.Core.Http;

internal static class HttpApiServiceCollectionExtensions
{
    /// <summary>
    /// The HTTP layer's services: body limits, machine authentication, webhook verification, error mapping, the operator
    /// routes' audit wrapper. Scoped,
    /// like a function invocation, because the machine directory they use may be. Their options are
    /// <see cref="VendingOptions"/>; the webhook secrets come from the webhook registration part. A part of
    /// <see cref="Composition.VendingFunctionApp.AddVendingFunctionApp"/>.
    /// </summary>
    internal static IServiceCollection AddHttpApi(this IServiceCollection services)
    {
        services.AddSingleton<RequestBodyReader>();
        services.AddScoped<MachineAuthenticator>();
        services.AddScoped<IStaleWebhookPoller, SaleEventLogPoller>();
        services.AddScoped<WebhookReceiver>();
        services.AddScoped<HttpApi>();
        // The operator routes' adapter (audit trail around each call): HTTP, so registered with the HTTP layer.
        services.AddScoped<OperatorApi>();
        return services;
    }
}
