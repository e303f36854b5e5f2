using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Vending.Core.Operator.Access;

public static class OperatorAccessServiceCollectionExtensions
{
    /// <summary>Sign-in, roles and the audit trail of the operator routes (called by <c>AddVendingOperator</c>).</summary>
    public static IServiceCollection AddVendingOperatorAccess(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OperatorAccessOptions>().Bind(configuration.GetSection(OperatorAccessOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IOperatorAuditLog, TableOperatorAuditLog>();
        services.TryAddScoped<OperatorApi>();
        services.TryAddSingleton<Fleet.IFleetQueries, Fleet.FleetQueries>();
        return services;
    }
}
