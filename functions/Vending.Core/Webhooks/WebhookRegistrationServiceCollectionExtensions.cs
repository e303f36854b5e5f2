using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Vending.Core.Http;
using Vending.Core.Operator;
using Vending.Core.Operator.Access;

namespace Vending.Core.Webhooks;

public static class WebhookRegistrationServiceCollectionExtensions
{
    /// <summary>
    /// The operator side: webhook registration (with its stored secrets verifying webhooks, configuration first),
    /// sale queries over the indexes and the merchant list. Call after <c>AddVending</c>; it replaces the HTTP layer's
    /// configuration-only <see cref="IWebhookSecretProvider"/>.
    /// </summary>
    public static IServiceCollection AddVendingOperator(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddVendingHttpApi(configuration);
        services.TryAddSingleton<TableWebhookRegistrationStore>();
        var keyVaultUri = configuration["Vending:KeyVaultUri"];
        if (!string.IsNullOrWhiteSpace(keyVaultUri))
        {
            var vaultUri = Uri.TryCreate(keyVaultUri, UriKind.Absolute, out var parsed) && parsed.Scheme == "https"
                ? parsed
                : throw new InvalidOperationException("Vending:KeyVaultUri must be the vault's https URI, e.g. https://kv-abc.vault.azure.net/.");
            services.TryAddSingleton<IWebhookRegistrationStore>(provider => new KeyVaultWebhookRegistrationStore(
                provider.GetRequiredService<TableWebhookRegistrationStore>(),
                new SecretClient(vaultUri, provider.GetRequiredService<AzureComponentFactory>().CreateTokenCredential(configuration.GetSection("VendingStorage")))));
        }
        else
        {
            services.TryAddSingleton<IWebhookRegistrationStore>(provider => provider.GetRequiredService<TableWebhookRegistrationStore>());
        }

        services.TryAddSingleton<StoredWebhookSecretProvider>();
        services.Replace(ServiceDescriptor.Singleton<IWebhookSecretProvider>(provider => provider.GetRequiredService<StoredWebhookSecretProvider>()));
        services.TryAddSingleton<IWebhookRegistrar, WebhookRegistrar>();
        services.TryAddSingleton<IOperatorSaleQueries, OperatorSaleQueries>();
        services.TryAddSingleton<IMerchantCatalog, MerchantCatalog>();
        services.AddVendingOperatorAccess(configuration);
        return services;
    }
}
