using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VippsSimulator.Tests.Support;

public sealed record ReceivedWebhook(string Method, string PathAndQuery, string Host, IReadOnlyDictionary<string, string> Headers, byte[] Body, int AnsweredStatus)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
    public string Name => Json["name"]!.GetValue<string>();
    public string Reference => Json["reference"]!.GetValue<string>();
}

/// <summary>A merchant webhook endpoint on a free loopback port that records every request and answers what the test decides.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    /// <summary>Decides the status of each request (default 200); sees the body as JSON.</summary>
    public Func<JsonNode, int> Answer { get; set; } = _ => 200;

    /// <summary>Delays the answer to a request (default none), to let tests exceed the simulator's timeout.</summary>
    public Func<JsonNode, TimeSpan> Delay { get; set; } = _ => TimeSpan.Zero;

    private WebhookReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var json = JsonNode.Parse(body)!;
            var delay = Delay(json);
            if (delay > TimeSpan.Zero)
            {
                try { await Task.Delay(delay, context.RequestAborted); }
                catch (OperationCanceledException) { }
            }
            var status = Answer(json);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            _received.Enqueue(new ReceivedWebhook(context.Request.Method, $"{context.Request.Path}{context.Request.QueryString}",
                context.Request.Host.ToString(), headers, body, status));
            return Results.StatusCode(status);
        });
    }

    public string Url { get; private set; } = "";

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToList();

    public IReadOnlyList<ReceivedWebhook> For(string reference) => Received.Where(r => r.Reference == reference).ToList();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
