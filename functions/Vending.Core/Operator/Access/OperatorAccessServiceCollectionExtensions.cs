using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Vending.Core.Operator.Access;

internal static class OperatorAccessServiceCollectionExtensions
{
    /// <summary>The operator side: sign-in, roles and the audit trail of the operator routes, the sale and fleet queries
    /// and the merchant list. A part of <see cref="Composition.VendingFunctionApp.AddVendingFunctionApp"/>.</summary>
    internal static IServiceCollection AddOperator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OperatorAccessOptions>().Bind(configuration.GetSection(OperatorAccessOptions.SectionName));
        services.AddSingleton<IOperatorAuditLog, TableOperatorAuditLog>();
        services.AddSingleton<IOperatorSaleQueries, OperatorSaleQueries>();
        services.AddSingleton<Fleet.IFleetQueries, Fleet.FleetQueries>();
        services.AddSingleton<IMerchantCatalog, MerchantCatalog>();
        return services;
    }
}
