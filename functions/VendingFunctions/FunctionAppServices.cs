using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Vending.Core;
using Vending.Core.Http;
using Vending.Core.Observability;
using Vending.Core.Webhooks;

namespace VendingFunctions;

/// <summary>What the Function App registers, shared with the local runner so both run the functions on the same services.</summary>
public static class FunctionAppServices
{
    public static IServiceCollection AddVendingFunctionApp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddVending(configuration);
        services.AddVendingHttpApi(configuration);
        services.AddVendingOperator(configuration);
        services.AddWebhookWatchdog(configuration);
        // OpenTelemetry with the configured exporters; nothing at all when none is configured.
        services.AddVendingTelemetry(configuration);
        return services;
    }
}
