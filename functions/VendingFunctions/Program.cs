using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vending.Core.Observability;
using VendingFunctions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();

// After the ASP.NET Core integration's own step, so the request's HttpContext is there (docs/local-runner.md).
builder.UseMiddleware<VendingFunctions.Http.HttpPipelineMiddleware>();

builder.Services.AddVendingFunctionApp(builder.Configuration);

// OpenTelemetry replaces the Application Insights SDK (docs/operations.md): the app's exporters are set up in
// AddVendingFunctionApp; here only the worker's invocation spans and the host's trace context (host.json
// telemetryMode), and only when an exporter is configured.
if (TelemetryServiceCollectionExtensions.IsTelemetryConfigured(builder.Configuration))
{
    builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
}

builder.Build().Run();
