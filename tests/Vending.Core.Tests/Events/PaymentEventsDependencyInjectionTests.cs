using Azure.Data.Tables;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Vending.Core.Events;
using Vending.Core.Sales;

namespace Vending.Core.Tests.Events;

public class PaymentEventsDependencyInjectionTests
{
    [Fact]
    public async Task Without_a_service_bus_namespace_events_go_to_the_local_file_under_the_content_root()
    {
        await using var provider = Build([], contentRoot: "/srv/vending");

        var publisher = Assert.IsType<LocalFilePaymentEventPublisher>(provider.GetRequiredService<IPaymentEventPublisher>());

        Assert.Equal("/srv/vending/.local/events.jsonl", publisher.Path);
        Assert.Null(provider.GetService<ServiceBusClient>());
    }

    [Fact]
    public async Task The_local_sink_path_is_configurable()
    {
        await using var provider = Build(new() { ["Events:LocalSinkPath"] = "out/sale-events.jsonl" }, contentRoot: "/srv/vending");

        var publisher = Assert.IsType<LocalFilePaymentEventPublisher>(provider.GetRequiredService<IPaymentEventPublisher>());

        Assert.Equal("/srv/vending/out/sale-events.jsonl", publisher.Path);
    }

    [Fact]
    public async Task With_a_service_bus_namespace_events_go_to_the_default_topic_of_that_namespace()
    {
        await using var provider = Build(new() { ["ServiceBus:fullyQualifiedNamespace"] = "vending-test.servicebus.windows.net" });

        Assert.IsType<ServiceBusPaymentEventPublisher>(provider.GetRequiredService<IPaymentEventPublisher>());
        var sender = provider.GetRequiredService<ServiceBusSender>();
        Assert.Equal("payment-events", sender.EntityPath);
        Assert.Equal("vending-test.servicebus.windows.net", sender.FullyQualifiedNamespace);
    }

    [Fact]
    public async Task The_topic_name_and_the_endpoint_form_of_the_namespace_are_accepted()
    {
        await using var provider = Build(new()
        {
            ["ServiceBus:fullyQualifiedNamespace"] = "sb://vending-test.servicebus.windows.net/",
            ["ServiceBus:clientId"] = "00000000-0000-0000-0000-000000000001",
            ["Events:TopicName"] = "sale-events",
        });

        Assert.IsType<ServiceBusPaymentEventPublisher>(provider.GetRequiredService<IPaymentEventPublisher>());
        var sender = provider.GetRequiredService<ServiceBusSender>();
        Assert.Equal("sale-events", sender.EntityPath);
        Assert.Equal("vending-test.servicebus.windows.net", sender.FullyQualifiedNamespace);
    }

    [Fact]
    public async Task The_dispatcher_is_registered_once_for_the_whole_app()
    {
        await using var provider = Build([]);

        var dispatcher = provider.GetRequiredService<IOutboxDispatcher>();

        Assert.IsType<OutboxDispatcher>(dispatcher);
        Assert.Same(dispatcher, provider.GetRequiredService<IOutboxDispatcher>());
    }

    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000001", null, typeof(ManagedIdentityCredential))]
    [InlineData(null, "managedidentity", typeof(ManagedIdentityCredential))]
    [InlineData(null, null, typeof(DefaultAzureCredential))]
    public void The_credential_follows_the_identity_settings(string? clientId, string? credential, Type expected)
    {
        var serviceBus = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["clientId"] = clientId, ["credential"] = credential })
            .Build();

        Assert.IsType(expected, PaymentEventsServiceCollectionExtensions.CreateCredential(serviceBus));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, string? contentRoot = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        // The events part alone (internal, visible to this project): the root's other parts register the outbox's rows
        // and the clock it uses; these tests stand in for them.
        services.AddSingleton<IPendingOutbox>(new Vending.Core.Storage.PendingOutboxTable(new TableServiceClient("UseDevelopmentStorage=true")));
        services.AddSingleton(TimeProvider.System);
        if (contentRoot is not null)
        {
            services.AddSingleton<IHostEnvironment>(new TestHostEnvironment(contentRoot));
        }

        services.AddPaymentEvents(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private sealed class TestHostEnvironment(string contentRoot) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";
        public string ApplicationName { get; set; } = "Vending.Core.Tests";
        public string ContentRootPath { get; set; } = contentRoot;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
