using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Vending.Core.Commands;
using Vending.Core.Events;
using Vending.Core.Machines;
using Vending.Core.Qr;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Vipps;

namespace Vending.Core;

public static class ServiceCollectionExtensions
{
    /// <summary>The storage account setting: a connection string, or a section (identity-based, as in Azure).</summary>
    public const string StorageSetting = "VendingStorage";

    /// <summary>The one composition root: used by the Function App, the local runner and the tests.
    /// Binds and validates options at start (ValidateOnStart); makes no network call.</summary>
    public static IServiceCollection AddVending(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddVippsClient(configuration);
        services.AddOptions<VendingOptions>()
            .Bind(configuration.GetSection(VendingOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(options => options.SeedMachines.All(seed => seed.ApiKey.StartsWith(seed.MachineId + ".", StringComparison.Ordinal)),
                "Vending:SeedMachines: each ApiKey must be \"{MachineId}.{secret}\".")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        AddStorageClients(services, configuration);

        services.TryAddSingleton<VendingTables>();
        services.TryAddSingleton<SaleRowCache>();
        services.TryAddSingleton<ISaleStore, SaleStore>();
        services.TryAddSingleton<IMachineSaleIndex, MachineSaleIndex>();
        services.TryAddSingleton<IDueSaleIndex, DueSaleIndex>();
        services.TryAddSingleton<IUnmatchedWebhookLog, UnmatchedWebhookLog>();

        services.TryAddSingleton<MachineSeeder>();
        services.TryAddSingleton<IMachineSeeder>(provider => provider.GetRequiredService<MachineSeeder>());
        services.TryAddSingleton<IMachineDirectory, MachineDirectory>();

        services.TryAddSingleton<IQrRenderer, QrRenderer>();
        services.AddHttpClient(QrImageFetcher.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(5));
        services.TryAddSingleton<IQrImageFetcher, QrImageFetcher>();

        services.TryAddSingleton<ISaleCommandQueue, SaleCommandQueue>();
        services.TryAddSingleton<SaleChangeNotifier>();
        services.TryAddSingleton<SaleRecorder>();
        services.TryAddSingleton<PaymentCreation>();
        services.TryAddSingleton<SaleViews>();
        services.TryAddSingleton<VippsEventIngest>();
        services.TryAddSingleton<SaleService>();
        services.TryAddSingleton<ISaleService>(provider => provider.GetRequiredService<SaleService>());
        services.TryAddSingleton<ISaleOperatorService>(provider => provider.GetRequiredService<SaleService>());
        services.TryAddSingleton<ISaleCommandProcessor, SaleCommandProcessor>();
        services.TryAddSingleton<IReconciler, Reconciler>();

        services.AddPaymentEvents(configuration);
        return services;
    }

    /// <summary>
    /// <c>VendingStorage</c> as a connection string (Azurite, local runs), or as a section with
    /// <c>tableServiceUri</c> / <c>queueServiceUri</c> plus <c>credential</c> / <c>clientId</c> (managed identity in Azure,
    /// the same shape the Functions host reads for the queue trigger's connection). Clients connect lazily.
    /// </summary>
    private static void AddStorageClients(IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration[StorageSetting];
        var section = configuration.GetSection(StorageSetting);
        services.AddAzureClientsCore();
        services.TryAddSingleton(provider =>
        {
            if (!string.IsNullOrWhiteSpace(connectionString))
            {
                return new TableServiceClient(connectionString);
            }

            var credential = provider.GetRequiredService<AzureComponentFactory>().CreateTokenCredential(section);
            return new TableServiceClient(RequiredUri(section, "tableServiceUri"), credential);
        });
        services.TryAddSingleton(provider =>
        {
            // Base64: what the Functions queue trigger reads (plain text would land in the poison queue unread).
            var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
            if (!string.IsNullOrWhiteSpace(connectionString))
            {
                return new QueueServiceClient(connectionString, queueOptions);
            }

            var credential = provider.GetRequiredService<AzureComponentFactory>().CreateTokenCredential(section);
            return new QueueServiceClient(RequiredUri(section, "queueServiceUri"), credential, queueOptions);
        });
    }

    private static Uri RequiredUri(IConfiguration section, string key) =>
        Uri.TryCreate(section[key], UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Set {StorageSetting} (a connection string) or {StorageSetting}__{key} (identity-based).");
}
