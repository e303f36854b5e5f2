using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Vending.Stack;

/// <summary>Which instance a webhook for a sale landed on, and when.</summary>
public sealed record WebhookLanding(string Reference, string? EventName, string Instance, int Status, DateTimeOffset At);

/// <summary>
/// One HTTP front over N instances of the Function App, round robin per request (YARP), as Azure's front end spreads
/// requests over instances: a machine's long poll, its vend report and Vipps' webhook for the same sale land on
/// different instances. No affinity and no health checks: a stopped instance answers 502 through the front, as a
/// dying instance does in Azure, and callers retry. Every answer carries <see cref="InstanceHeader"/>; the instance
/// each webhook landed on is kept per sale (<see cref="WebhooksFor"/>) so the harness can tell same-instance from
/// cross-instance approvals.
/// </summary>
public sealed class RoundRobinFront : IAsyncDisposable
{
    /// <summary>The response header naming the instance that served a request.</summary>
    public const string InstanceHeader = "x-vending-instance";

    private const string WebhookPath = "/api/webhooks/vipps";
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<WebhookLanding>> _webhooks = new(StringComparer.Ordinal);

    private RoundRobinFront(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>Every webhook the front passed on for <paramref name="reference"/>, in arrival order.</summary>
    public IReadOnlyList<WebhookLanding> WebhooksFor(string reference) =>
        _webhooks.TryGetValue(reference, out var landings) ? landings.ToArray() : [];

    public static async Task<RoundRobinFront> StartAsync(int port, IReadOnlyList<(string Id, Uri Url)> instances, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var cluster = new ClusterConfig
        {
            ClusterId = "app",
            LoadBalancingPolicy = "RoundRobin",
            // Long polls hold a request up to ~30 s; webhooks and machines have their own timeouts.
            HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(120) },
            Destinations = instances.ToDictionary(i => i.Id, i => new DestinationConfig { Address = i.Url.ToString() }),
        };
        var route = new RouteConfig { RouteId = "all", ClusterId = "app", Match = new RouteMatch { Path = "{**rest}" } };
        builder.Services.AddReverseProxy()
            .LoadFromMemory([route], [cluster])
            .AddTransforms(context => context.AddResponseTransform(transform =>
            {
                if (transform.HttpContext.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
                {
                    transform.HttpContext.Response.Headers[InstanceHeader] = destination.DestinationId;
                }

                return ValueTask.CompletedTask;
            }));

        var app = builder.Build();
        RoundRobinFront? front = null;
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.Path.Equals(WebhookPath, StringComparison.OrdinalIgnoreCase))
            {
                await next(context);
                return;
            }

            // A webhook: note which instance it lands on (the body is small and buffered, then forwarded unchanged).
            context.Request.EnableBuffering();
            var (reference, eventName) = await PeekAsync(context.Request);
            context.Request.Body.Position = 0;
            await next(context);
            if (reference is not null && context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
            {
                front!._webhooks.GetOrAdd(reference, _ => new ConcurrentQueue<WebhookLanding>())
                    .Enqueue(new WebhookLanding(reference, eventName, destination.DestinationId, context.Response.StatusCode, DateTimeOffset.UtcNow));
            }
        });
        app.MapReverseProxy();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        front = new RoundRobinFront(app, new Uri(address.TrimEnd('/') + "/"));
        return front;
    }

    private static async Task<(string? Reference, string? EventName)> PeekAsync(HttpRequest request)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body);
            var root = document.RootElement;
            string? Get(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return (Get("reference"), Get("name"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
