using System.Text.Json;
using LocalRunner;
using Microsoft.AspNetCore.Routing;
using Moq;
using Vending.Core.Commands;
using Vending.Core.Reconciliation;

namespace VendingFunctions.Tests;

/// <summary>
/// The Functions SDK's functions.metadata is what Azure will serve and trigger. The local runner finds functions by
/// reflection instead; these tests prove both see the same HTTP routes, methods and auth levels, and the same queue
/// and timer functions, so a function added to the app cannot silently be missing locally.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private sealed record Binding(string Function, string Type, string? Route, string Methods, string? AuthLevel, string? QueueName, string? Connection, string? Schedule);

    private static List<Binding> Triggers()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}: the test project copies it from the Function App's build output.");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.EnumerateArray()
            .SelectMany(function => function.GetProperty("bindings").EnumerateArray()
                .Where(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal))
                .Select(b => new Binding(
                    function.GetProperty("name").GetString()!,
                    b.GetProperty("type").GetString()!,
                    b.TryGetProperty("route", out var route) ? route.GetString() : null,
                    b.TryGetProperty("methods", out var methods) ? string.Join(",", methods.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Order()) : "",
                    b.TryGetProperty("authLevel", out var auth) ? auth.GetString() : null,
                    b.TryGetProperty("queueName", out var queue) ? queue.GetString() : null,
                    b.TryGetProperty("connection", out var connection) ? connection.GetString() : null,
                    b.TryGetProperty("schedule", out var schedule) ? schedule.GetString() : null)))
            .ToList();
    }

    private static Task<LocalRunnerApp> StartRunner(bool runTriggers = false) =>
        LocalRunnerApp.StartAsync(RunnerSettings.Create(services =>
        {
            // Hosted trigger services resolve nothing until they run; the fakes only keep the container complete.
            services.AddSingleton(Mock.Of<ISaleCommandProcessor>());
            services.AddSingleton(Mock.Of<IReconciler>());
        }, storage: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;", runTriggers: runTriggers));

    [Fact]
    public async Task The_runner_serves_exactly_the_http_routes_and_methods_of_the_metadata()
    {
        var expected = Triggers().Where(t => t.Type == "httpTrigger")
            .Select(t => $"{t.Methods} /api/{t.Route}")
            .Order().ToList();
        Assert.NotEmpty(expected);

        await using var runner = await StartRunner();
        // The runner's own endpoints (the API document and its reference) are not functions and are checked apart.
        var served = runner.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<RunnerOwnEndpoint>() is null)
            .Select(e => $"{string.Join(",", e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Order() ?? Enumerable.Empty<string>())} {e.RoutePattern.RawText}")
            .Order().ToList();

        Assert.Equal(expected, served);
    }

    [Fact]
    public async Task The_runners_own_endpoints_are_only_the_api_document_and_its_reference()
    {
        await using var runner = await StartRunner();
        var own = runner.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<RunnerOwnEndpoint>() is not null)
            .Select(e => e.RoutePattern.RawText!)
            .ToList();

        Assert.Contains("/api/docs/openapi.yaml", own);
        Assert.All(own, route => Assert.StartsWith("/api/docs", route, StringComparison.Ordinal));
        // None of them is a function route: the Function App in Azure serves no document.
        Assert.DoesNotContain(Triggers(), t => t.Route is not null && t.Route.StartsWith("docs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_runner_enforces_the_auth_level_of_each_route_as_the_metadata_declares()
    {
        var expected = Triggers().Where(t => t.Type == "httpTrigger").Select(t => $"{t.Function} {t.AuthLevel}").Order();
        await using var runner = await StartRunner();

        Assert.Equal(expected, runner.Functions.Http.Select(f => $"{f.Name} {f.AuthLevel}").Order());
    }

    [Fact]
    public async Task The_runner_drives_every_queue_and_timer_function_of_the_metadata()
    {
        var triggers = Triggers();
        var expectedQueues = triggers.Where(t => t.Type == "queueTrigger").Select(t => $"{t.Function} {t.QueueName} {t.Connection}").Order().ToList();
        var expectedTimers = triggers.Where(t => t.Type == "timerTrigger").Select(t => $"{t.Function} {t.Schedule}").Order().ToList();
        Assert.Contains($"SaleCommand {QueueNames.SaleCommands} VendingStorage", expectedQueues);
        Assert.Equal(triggers.Count, triggers.Count(t => t.Type is "httpTrigger" or "queueTrigger" or "timerTrigger"));

        await using var runner = await StartRunner(runTriggers: true);
        var hosted = runner.Services.GetServices<IHostedService>().ToList();

        Assert.Equal(expectedQueues, hosted.OfType<QueueTriggerService>().Select(s => $"{s.Function.Name} {s.Function.QueueName} {s.Function.Connection}").Order());
        Assert.Equal(expectedTimers, hosted.OfType<TimerTriggerService>().Select(s => $"{s.Function.Name} {s.Function.Schedule}").Order());
    }
}
