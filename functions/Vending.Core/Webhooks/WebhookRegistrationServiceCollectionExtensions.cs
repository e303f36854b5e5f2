using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Vending.Core.Webhooks;

internal static class WebhookRegistrationServiceCollectionExtensions
{
    private static readonly string KeyVaultUriSetting = $"{VendingOptions.SectionName}:{nameof(VendingOptions.KeyVaultUri)}";

    /// <summary>
    /// Webhook registration and its secrets: the store (Key Vault when <c>Vending:KeyVaultUri</c> is set, else the
    /// table's <see cref="IWebhookRegistrationRows"/>, which the storage part registers), the secrets webhooks are
    /// verified against (configured first, then stored), the registrar and its watchdog. A part of <see cref="Composition.VendingFunctionApp.AddVendingFunctionApp"/>.
    /// </summary>
    internal static IServiceCollection AddWebhookRegistration(this IServiceCollection services, IConfiguration configuration)
    {
        var keyVaultUri = configuration[KeyVaultUriSetting];
        if (!string.IsNullOrWhiteSpace(keyVaultUri))
        {
            var vaultUri = Uri.TryCreate(keyVaultUri, UriKind.Absolute, out var parsed) && parsed.Scheme == "https"
                ? parsed
                : throw new InvalidOperationException("Vending:KeyVaultUri must be the vault's https URI, e.g. https://kv-abc.vault.azure.net/.");
            services.AddSingleton<IWebhookRegistrationStore>(provider => new KeyVaultWebhookRegistrationStore(
                provider.GetRequiredService<IWebhookRegistrationRows>(),
                new SecretClient(vaultUri, provider.GetRequiredService<AzureComponentFactory>().CreateTokenCredential(
                    configuration.GetSection(Composition.VendingFunctionApp.StorageSetting)))));
        }
        else
        {
            services.AddSingleton<IWebhookRegistrationStore>(provider => provider.GetRequiredService<IWebhookRegistrationRows>());
        }

        // One instance under both types: the registrar takes the concrete provider (optionally, for its unit tests) to drop
        // the cached secrets the moment it stores a new one; unregistered, it would silently get null.
        services.AddSingleton<StoredWebhookSecretProvider>();
        services.AddSingleton<IWebhookSecretProvider>(provider => provider.GetRequiredService<StoredWebhookSecretProvider>());
        services.AddSingleton<IWebhookRegistrar, WebhookRegistrar>();

        services.AddOptions<WebhookWatchdogOptions>().Bind(configuration.GetSection(WebhookWatchdogOptions.SectionName));
        services.AddSingleton<WebhookWatchdog>();
        return services;
    }
}
