using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Vending.Core.Events;
using Vending.Core.Http;
using Vending.Core.Observability;
using Vending.Core.Operator.Access;
using Vending.Core.Webhooks;
using Vending.Vipps;

namespace Vending.Core.Composition;

/// <summary>The one composition root: what the Function App (Program.cs), the local runner and the tests register.</summary>
public static class VendingFunctionApp
{
    /// <summary>The storage account setting: a connection string, or a section (identity-based, as in Azure).</summary>
    public const string StorageSetting = "VendingStorage";

    /// <summary>
    /// The parts, each registering its own services exactly once with <c>Add</c>: none replaces, reads or relies on
    /// another's registration, so their order does not matter (tests/Vending.Core.Tests/CompositionTests registers
    /// them in reverse and compares). A caller that wants a stand-in (a test clock, a mock) registers it after the root:
    /// the last registration wins.
    /// </summary>
    internal static readonly IReadOnlyList<Action<IServiceCollection, IConfiguration>> Parts =
    [
        // The Vipps client library registers the app's clock (TimeProvider.System) with its token cache; no other part does.
        (services, configuration) => services.AddVippsClient(configuration),
        (services, configuration) => services.AddVendingOptions(configuration),
        (services, configuration) => services.AddStorage(configuration),
        (services, _) => services.AddSales(),
        (services, configuration) => services.AddPaymentEvents(configuration),
        (services, _) => services.AddHttpApi(),
        (services, configuration) => services.AddWebhookRegistration(configuration),
        (services, configuration) => services.AddOperator(configuration),
        // OpenTelemetry with the configured exporters; nothing at all when none is configured.
        (services, configuration) => services.AddVendingTelemetry(configuration),
    ];

    /// <summary>Registers every service of the app. Binds options and validates them at start (ValidateOnStart); makes
    /// no network call (clients connect on first use: cold starts on Functions punish start-up calls).</summary>
    public static IServiceCollection AddVendingFunctionApp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var part in Parts)
        {
            part(services, configuration);
        }

        return services;
    }
}
