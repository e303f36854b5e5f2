using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Vending.Core.Commands;
using Vending.Core.Events;
using Vending.Core.Machines;
using Vending.Core.Operator;
using Vending.Core.Operator.Access;
using Vending.Core.Operator.Fleet;
using Vending.Core.Qr;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Webhooks;

namespace Vending.Core.Composition;

/// <summary>The core's parts of <see cref="VendingFunctionApp.AddVendingFunctionApp"/>: options, storage, sales.</summary>
internal static class ServiceCollectionExtensions
{
    /// <summary>The section <c>Vending</c>, bound to its one class and validated at start (ValidateOnStart).</summary>
    internal static IServiceCollection AddVendingOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<VendingOptions>()
            .Bind(configuration.GetSection(VendingOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return services;
    }

    /// <summary>
    /// The storage clients and the tables over them. <c>VendingStorage</c> as a connection string (Azurite, local runs),
    /// or as a section with <c>tableServiceUri</c> / <c>queueServiceUri</c> plus <c>credential</c> / <c>clientId</c>
    /// (managed identity in Azure, the same shape the Functions host reads for the queue trigger's connection).
    /// Clients connect lazily: nothing here touches the network.
    /// </summary>
    internal static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration[VendingFunctionApp.StorageSetting];
        var section = configuration.GetSection(VendingFunctionApp.StorageSetting);
        services.AddAzureClientsCore();
        services.AddSingleton(provider =>
        {
            if (!string.IsNullOrWhiteSpace(connectionString))
            {
                return new TableServiceClient(connectionString);
            }

            var credential = provider.GetRequiredService<AzureComponentFactory>().CreateTokenCredential(section);
            return new TableServiceClient(RequiredUri(section, "tableServiceUri"), credential);
        });
        services.AddSingleton(provider =>
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

        services.AddSingleton<VendingTables>();
        services.AddSingleton<SaleRowCache>();
        services.AddSingleton<ISaleStore, SaleStore>();
        services.AddSingleton<IDueSaleIndex, DueSaleIndex>();
        services.AddSingleton<IUnmatchedWebhookLog, UnmatchedWebhookLog>();

        // The features' own ports, implemented over their tables here (docs/core.md, "Layers").
        services.AddSingleton<IWebhookRegistrationRows, TableWebhookRegistrationStore>();
        services.AddSingleton<IOperatorAuditLog, TableOperatorAuditLog>();
        services.AddSingleton<ISalesByDayIndex, SalesByDayIndex>();
        services.AddSingleton<IMachineSaleIndex, MachineSaleIndex>();
        services.AddSingleton<IPendingOutbox, PendingOutboxTable>();
        return services;
    }

    /// <summary>Machines, QR, the sale service and its helpers, the command queue and processor, the reconciler. One
    /// instance each per app: the in-process change notifier and the caches only work if every caller shares them.</summary>
    internal static IServiceCollection AddSales(this IServiceCollection services)
    {
        services.AddSingleton<MachineSeeder>();
        services.AddSingleton<IMachineSeeder>(provider => provider.GetRequiredService<MachineSeeder>());
        services.AddSingleton<IMachineDirectory, MachineDirectory>();

        services.AddSingleton<IQrRenderer, QrRenderer>();
        services.AddHttpClient(QrImageFetcher.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(5));
        services.AddSingleton<IQrImageFetcher, QrImageFetcher>();

        services.AddSingleton<ISaleCommandQueue, SaleCommandQueue>();
        services.AddSingleton<SaleChangeNotifier>();
        services.AddSingleton<SaleRecorder>();
        services.AddSingleton<PaymentCreation>();
        services.AddSingleton<SaleViews>();
        services.AddSingleton<VippsEventIngest>();
        services.AddSingleton<SaleService>();
        services.AddSingleton<ISaleService>(provider => provider.GetRequiredService<SaleService>());
        services.AddSingleton<ISaleOperatorService>(provider => provider.GetRequiredService<SaleService>());
        services.AddSingleton<ISaleCommandProcessor, SaleCommandProcessor>();
        services.AddSingleton<IReconciler, Reconciler>();
        return services;
    }

    private static Uri RequiredUri(IConfiguration section, string key) =>
        Uri.TryCreate(section[key], UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Set {VendingFunctionApp.StorageSetting} (a connection string) or {VendingFunctionApp.StorageSetting}__{key} (identity-based).");
}
