using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Vending.Core.Observability;

/// <summary>
/// OpenTelemetry for the Function App and the local runner. Exporters follow the configuration, and with none of them
/// configured nothing is registered at all (no provider, no sampling cost):
/// <list type="bullet">
/// <item><c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>: Azure Monitor (traces, metrics, logs), authenticated with the
/// managed identity named in <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> (local auth is off on the component).</item>
/// <item><c>OTEL_EXPORTER_OTLP_ENDPOINT</c>: OTLP (a local collector, Aspire dashboard, Jaeger...).</item>
/// <item><c>Telemetry:Console</c> = true: spans and metrics printed to the console.</item>
/// </list>
/// </summary>
public static class TelemetryServiceCollectionExtensions
{
    public const string ConsoleSetting = "Telemetry:Console";
    public const string ApplicationInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string ApplicationInsightsAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Sources of the spans we keep: ours, the HTTP server and client (.NET's own), the Azure SDK clients.</summary>
    public static readonly string[] ActivitySources = [VendingTelemetry.Name, "Microsoft.AspNetCore", "System.Net.Http", "Azure.*"];

    /// <summary>True when an exporter is configured; the caller (Program.cs) adds the Functions worker's own defaults then.</summary>
    public static bool IsTelemetryConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[ApplicationInsightsSetting])
        || !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting])
        || configuration.GetValue<bool>(ConsoleSetting);

    /// <summary>Registers OpenTelemetry with the configured exporters; returns null (and registers nothing) when none is.</summary>
    internal static OpenTelemetryBuilder? AddVendingTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (!IsTelemetryConfigured(configuration))
        {
            return null;
        }

        EnableAzureSdkActivities();
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("vending-functions"))
            .WithTracing(tracing => tracing.AddVendingInstrumentation())
            .WithMetrics(metrics => metrics.AddVendingInstrumentation());

        if (configuration.GetValue<bool>(ConsoleSetting))
        {
            builder.WithTracing(tracing => tracing.AddConsoleExporter()).WithMetrics(metrics => metrics.AddConsoleExporter());
        }

        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]))
        {
            // Reads OTEL_EXPORTER_OTLP_* itself (endpoint, protocol, headers).
            builder.UseOtlpExporter();
        }

        if (configuration[ApplicationInsightsSetting] is { Length: > 0 } connectionString)
        {
            var credential = ManagedIdentityCredentialFrom(configuration[ApplicationInsightsAuthenticationSetting]);
            builder.UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = connectionString;
                if (credential is not null)
                {
                    options.Credential = credential;
                }
            });
        }

        return builder;
    }

    /// <summary>Our spans plus the HTTP and Azure SDK spans a sale's trace is made of (shared with the tests).</summary>
    public static TracerProviderBuilder AddVendingInstrumentation(this TracerProviderBuilder tracing)
    {
        EnableAzureSdkActivities();
        return tracing.AddSource(ActivitySources);
    }

    /// <summary>The <c>Vending</c> meter (shared with the tests).</summary>
    public static MeterProviderBuilder AddVendingInstrumentation(this MeterProviderBuilder metrics) =>
        metrics.AddMeter(VendingTelemetry.Name);

    /// <summary>
    /// <c>ClientId={id};Authorization=AAD</c> (the form App Service documents for Application Insights) as the
    /// user-assigned identity's credential; null when the setting is empty or not that form.
    /// </summary>
    public static TokenCredential? ManagedIdentityCredentialFrom(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        var parts = authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out var clientId) && !string.IsNullOrWhiteSpace(clientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }

    // The Azure SDK emits its spans (Tables, Queues, Service Bus, Key Vault) through ActivitySource only with this switch.
    private static void EnableAzureSdkActivities() => AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);
}
