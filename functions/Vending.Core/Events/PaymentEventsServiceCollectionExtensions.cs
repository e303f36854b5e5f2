using Azure.Core;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Sales;

namespace Vending.Core.Events;

internal static class PaymentEventsServiceCollectionExtensions
{
    public const string ServiceBusSection = "ServiceBus";

    /// <summary>
    /// Registers <see cref="IOutboxDispatcher"/> and the <see cref="IPaymentEventPublisher"/> for this configuration:
    /// Service Bus (managed identity) when <c>ServiceBus:fullyQualifiedNamespace</c> is set, else the local JSON-lines
    /// file. A part of <see cref="Composition.VendingFunctionApp.AddVendingFunctionApp"/> (the storage part registers the
    /// <see cref="IPendingOutbox"/> it reads). Makes no network call:
    /// the Service Bus connection opens on the first send.
    /// </summary>
    internal static IServiceCollection AddPaymentEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PaymentEventsOptions>()
            .Bind(configuration.GetSection(PaymentEventsOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IOutboxDispatcher, OutboxDispatcher>();

        var serviceBus = configuration.GetSection(ServiceBusSection);
        var fullyQualifiedNamespace = NamespaceHost(serviceBus["fullyQualifiedNamespace"]);
        if (fullyQualifiedNamespace is not null)
        {
            services.AddAzureClients(clients =>
            {
                clients.AddServiceBusClientWithNamespace(fullyQualifiedNamespace);
                clients.UseCredential(CreateCredential(serviceBus));
            });
            services.AddSingleton(provider => provider.GetRequiredService<ServiceBusClient>()
                .CreateSender(provider.GetRequiredService<IOptions<PaymentEventsOptions>>().Value.TopicName));
            services.AddSingleton<IPaymentEventPublisher>(provider => new ServiceBusPaymentEventPublisher(
                provider.GetRequiredService<ServiceBusSender>(),
                provider.GetRequiredService<ILogger<ServiceBusPaymentEventPublisher>>()));
        }
        else
        {
            services.AddSingleton<IPaymentEventPublisher>(provider => new LocalFilePaymentEventPublisher(
                LocalSinkPath(provider),
                provider.GetRequiredService<ILogger<LocalFilePaymentEventPublisher>>()));
        }

        return services;
    }

    /// <summary><c>ServiceBus:clientId</c> set: that user-assigned identity. <c>ServiceBus:credential</c> =
    /// <c>managedidentity</c> without a client id: the system-assigned identity. Otherwise DefaultAzureCredential
    /// (developer sign-in locally, managed identity in Azure).</summary>
    internal static TokenCredential CreateCredential(IConfiguration serviceBus)
    {
        var clientId = serviceBus["clientId"];
        if (!string.IsNullOrWhiteSpace(clientId))
        {
            return new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        }

        return string.Equals(serviceBus["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new DefaultAzureCredential();
    }

    /// <summary>Accepts the host name ("ns.servicebus.windows.net") or the endpoint form ("sb://ns.servicebus.windows.net/")
    /// that the portal shows; the client wants the host name.</summary>
    internal static string? NamespaceHost(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return null;
        }

        var value = configured.Trim();
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) ? uri.Host : value.TrimEnd('/');
    }

    private static string LocalSinkPath(IServiceProvider provider)
    {
        var configured = provider.GetRequiredService<IOptions<PaymentEventsOptions>>().Value.LocalSinkPath;
        var root = provider.GetService<IHostEnvironment>()?.ContentRootPath;
        return Path.GetFullPath(configured, string.IsNullOrEmpty(root) ? Directory.GetCurrentDirectory() : root);
    }
}
