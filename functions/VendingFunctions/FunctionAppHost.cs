using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vending.Core.Composition;
using Vending.Core.Observability;
using VendingFunctions.Http;

namespace VendingFunctions;

/// <summary>The worker's whole set-up, as Program.cs runs it; tests/Architecture.Tests builds the real worker host
/// through the same method, so a registration the app lacks fails there and not first in Azure.</summary>
public static class FunctionAppHost
{
    public static FunctionsApplicationBuilder Configure(FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();

        // After the ASP.NET Core integration's own step, so the request's HttpContext is there (docs/local-runner.md).
        builder.UseMiddleware<HttpPipelineMiddleware>();

        builder.Services.AddVendingFunctionApp(builder.Configuration);

        // OpenTelemetry replaces the Application Insights SDK (docs/operations.md): the app's exporters are set up in
        // AddVendingFunctionApp; here only the worker's invocation spans and the host's trace context (host.json
        // telemetryMode), and only when an exporter is configured.
        if (TelemetryServiceCollectionExtensions.IsTelemetryConfigured(builder.Configuration))
        {
            builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
        }

        return builder;
    }
}
