using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Vending.Core.Operator.Access;

internal static class OperatorAccessServiceCollectionExtensions
{
    /// <summary>The operator side: sign-in and roles of the operator routes (their audit trail, <see cref="IOperatorAuditLog"/>, is the storage part's), the sale and fleet queries
    /// and the merchant list. A part of <see cref="Composition.VendingFunctionApp.AddVendingFunctionApp"/>.</summary>
    internal static IServiceCollection AddOperator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OperatorAccessOptions>().Bind(configuration.GetSection(OperatorAccessOptions.SectionName));
        services.AddSingleton<IOperatorSaleQueries, OperatorSaleQueries>();
        services.AddSingleton<Fleet.IFleetQueries, Fleet.FleetQueries>();
        services.AddSingleton<IMerchantCatalog, MerchantCatalog>();
        return services;
    }
}
