// Deliberate breaches of the core's layer rules (CoreLayerTests), compiled into this test assembly only: in each
// namespace, BreaksTheRule uses what the rule of that name forbids and KeepsTheRule only what it allows.

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Vending.Core;
using Vending.Core.Composition;
using Vending.Core.Sales;

namespace Architecture.Tests.Fixtures.Layers.Application
{
    /// <summary>A use case that reaches past its port for the table implementation.</summary>
    public sealed class BreaksTheRule(Vending.Core.Storage.SaleStore store)
    {
        public Vending.Core.Storage.SaleStore Store { get; } = store;
    }

    public sealed class KeepsTheRule(ISaleStore store)
    {
        public ISaleStore Store { get; } = store;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Sales
{
    /// <summary>The sale's code calling the command processor, which is built on it.</summary>
    public sealed class BreaksTheRule(Vending.Core.Commands.ISaleCommandProcessor processor)
    {
        public Vending.Core.Commands.ISaleCommandProcessor Processor { get; } = processor;
    }

    public sealed class KeepsTheRule(ISaleCommandQueue queue)
    {
        public ISaleCommandQueue Queue { get; } = queue;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Infrastructure
{
    /// <summary>A store that answers HTTP itself.</summary>
    public sealed class BreaksTheRule(Vending.Core.Http.HttpApi api)
    {
        public Vending.Core.Http.HttpApi Api { get; } = api;
    }

    public sealed class KeepsTheRule : IUnmatchedWebhookLog
    {
        public Task RecordAsync(string merchantId, string reference, string eventName, string pspReference, long amount, DateTimeOffset eventTime, CancellationToken cancellationToken) =>
            Task.CompletedTask;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Features
{
    /// <summary>An operator feature that reaches past its port for the table behind it.</summary>
    public sealed class BreaksTheRule(Vending.Core.Storage.TableWebhookRegistrationStore rows)
    {
        public Vending.Core.Storage.TableWebhookRegistrationStore Rows { get; } = rows;
    }

    public sealed class KeepsTheRule(Vending.Core.Webhooks.IWebhookRegistrationRows rows)
    {
        public Vending.Core.Webhooks.IWebhookRegistrationRows Rows { get; } = rows;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Observability
{
    /// <summary>Tracing that knows the command queue's message.</summary>
    public static class BreaksTheRule
    {
        public static string Kind(SaleCommand command) => command.Kind;
    }

    public static class KeepsTheRule
    {
        public static int Deadline(VendingOptions options) => options.VendReportDeadlineSeconds;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Outside
{
    /// <summary>A feature outside Http that builds HTTP answers.</summary>
    public sealed class BreaksTheRule(Vending.Core.Http.HttpApi api)
    {
        public Vending.Core.Http.HttpApi Api { get; } = api;
    }

    public sealed class KeepsTheRule(ISaleStore store)
    {
        public ISaleStore Store { get; } = store;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Inside
{
    /// <summary>A feature that registers the whole app (the composition root is the app's entry, never a feature's).</summary>
    public static class BreaksTheRule
    {
        public static IServiceCollection RegisterEverything(IServiceCollection services, IConfiguration configuration) =>
            services.AddVendingFunctionApp(configuration);
    }

    public sealed class KeepsTheRule(ISaleStore store)
    {
        public ISaleStore Store { get; } = store;
    }
}

namespace Architecture.Tests.Fixtures.Layers.Options
{
    /// <summary>Options that reach for a feature.</summary>
    public sealed class BreaksTheRule(ISaleStore store)
    {
        public ISaleStore Store { get; } = store;
    }

    public static class KeepsTheRule
    {
        public static int Deadline(VendingOptions options) => options.VendReportDeadlineSeconds;
    }
}
