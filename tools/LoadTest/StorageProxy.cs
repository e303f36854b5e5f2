using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace LoadTest;

/// <summary>
/// A counting reverse proxy between the runner and Azurite (Table and Queue endpoints): every storage round trip the
/// runner makes passes here once and is counted by kind (table point read/write, query, entity-group batch, queue put,
/// get, delete). The forwarding is YARP's direct forwarder; this class only names and counts. Headers and bodies pass
/// unchanged, so Shared Key signatures (which do not sign the host) stay valid. This measures storage requests per sale
/// from outside, without a hook in the product.
/// </summary>
public sealed partial class StorageProxy : IAsyncDisposable
{
    // The item under which a request's kind travels from the middleware to the response transform.
    private static readonly object KindItem = new();

    // Set once Azurite's answer was counted, so a failure after that (while copying the body) is not counted twice.
    private static readonly object CountedItem = new();
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _forward;
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private long _total;

    private StorageProxy(WebApplication app, HttpMessageInvoker forward, int tablePort, int queuePort)
    {
        _app = app;
        _forward = forward;
        TablePort = tablePort;
        QueuePort = queuePort;
    }

    public int TablePort { get; }

    public int QueuePort { get; }

    public long Total => Interlocked.Read(ref _total);

    /// <summary>Each table request's time through the proxy (Azurite's answer included), for Azurite's latency under load.</summary>
    public LatencyRecorder TableLatency { get; } = new();

    /// <summary>The same for queue requests (Azurite answers a queue get at once: no long poll to skew it).</summary>
    public LatencyRecorder QueueLatency { get; } = new();

    /// <summary>The runner's connection string: tables and queues through the proxy, blobs straight to Azurite.</summary>
    public string ConnectionString(int blobPort) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static async Task<StorageProxy> StartAsync(int azuriteTablePort, int azuriteQueuePort)
    {
        var tablePort = Vending.Testing.Azurite.FreePort();
        var queuePort = Vending.Testing.Azurite.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, tablePort);
            kestrel.Listen(IPAddress.Loopback, queuePort);
        });
        builder.Services.AddHttpForwarder();
        var app = builder.Build();

        // As YARP recommends for direct forwarding: one invoker, no proxy, cookies, redirects or decompression.
        var forward = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ActivityHeadersPropagator = null,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
        var proxy = new StorageProxy(app, forward, tablePort, queuePort);
        var targets = new Dictionary<int, (string Service, string Prefix)>
        {
            [tablePort] = ("table", $"http://127.0.0.1:{azuriteTablePort}/"),
            [queuePort] = ("queue", $"http://127.0.0.1:{azuriteQueuePort}/"),
        };
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var requestConfig = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) };
        var transformer = new CountingTransformer(proxy);
        app.Run(async context =>
        {
            var (service, prefix) = targets[context.Connection.LocalPort];
            context.Items[KindItem] = await KindOfAsync(context.Request, service);
            Interlocked.Increment(ref proxy._total);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var error = await forwarder.SendAsync(context, prefix, forward, requestConfig, transformer);
            (service == "table" ? proxy.TableLatency : proxy.QueueLatency).Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            if (error != ForwarderError.None && !context.Items.ContainsKey(CountedItem))
            {
                // No answer from Azurite (YARP has already answered 502): the attempt still counts under its kind.
                proxy.Count((string)context.Items[KindItem]!);
            }
        });
        await app.StartAsync();
        return proxy;
    }

    /// <summary>A copy of the counters ("table:Sales:batch" ... and "total").</summary>
    public StorageCounts Snapshot() => new(Total, new SortedDictionary<string, long>(_counts, StringComparer.Ordinal));

    private static async Task<string> KindOfAsync(HttpRequest request, string service)
    {
        if (service != "table")
        {
            return QueueKind(request);
        }

        // A batch names its table only inside its body: buffer it, read it, and rewind it for the forwarder.
        request.EnableBuffering();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        request.Body.Position = 0;
        return TableKind(request, buffer.ToArray());
    }

    private void Count(string kind) => _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);

    /// <summary>YARP's default transforms (headers copied, no X-Forwarded-*), plus counting once Azurite answers.</summary>
    private sealed class CountingTransformer(StorageProxy proxy) : HttpTransformer
    {
        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var forwardBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            if (proxyResponse is null)
            {
                return forwardBody;
            }

            var kind = (string)httpContext.Items[KindItem]!;
            if (kind.StartsWith("queue:", StringComparison.Ordinal) && kind.EndsWith(":get", StringComparison.Ordinal))
            {
                // A trigger's poll of an empty queue is idle cost, not work: told apart by the answer. Buffering the
                // (small) answer lets YARP still copy it to the runner afterwards.
                await proxyResponse.Content.LoadIntoBufferAsync(cancellationToken);
                var answer = await proxyResponse.Content.ReadAsStringAsync(cancellationToken);
                kind = answer.Contains("<QueueMessage>", StringComparison.Ordinal) ? kind : kind + "-empty";
            }

            httpContext.Items[CountedItem] = true;
            proxy.Count(kind);
            return forwardBody;
        }
    }

    // Path: /devstoreaccount1/{resource}...; a batch names its table inside the multipart body.
    internal static string TableKind(HttpRequest request, byte[] body)
    {
        var segments = request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var resource = segments.Length > 1 ? Uri.UnescapeDataString(segments[1]) : "";
        if (resource == "$batch")
        {
            var text = System.Text.Encoding.UTF8.GetString(body);
            var match = BatchTable().Match(text);
            return $"table:{(match.Success ? match.Groups[1].Value : "?")}:batch";
        }

        if (resource.StartsWith("Tables", StringComparison.Ordinal))
        {
            return "table:(tables):" + request.Method.ToLowerInvariant();
        }

        var paren = resource.IndexOf('(', StringComparison.Ordinal);
        var table = paren < 0 ? resource : resource[..paren];
        var isEntity = paren >= 0 && resource.Length > paren + 2; // "Sales(PartitionKey='..',RowKey='..')" vs "Sales()"
        var operation = request.Method switch
        {
            "GET" when isEntity => "read",
            "GET" => "query",
            "POST" => "insert",
            "PUT" or "MERGE" or "PATCH" => "update",
            "DELETE" => "delete",
            _ => request.Method.ToLowerInvariant(),
        };
        return $"table:{table}:{operation}";
    }

    internal static string QueueKind(HttpRequest request)
    {
        var segments = request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var queue = segments.Length > 1 ? segments[1] : "?";
        if (segments.Length > 2 && segments[2] == "messages")
        {
            var operation = request.Method switch
            {
                "POST" => "put",
                "GET" when request.Query.ContainsKey("peekonly") => "peek",
                "GET" => "get",
                "DELETE" => segments.Length > 3 ? "delete" : "clear",
                "PUT" => "update",
                _ => request.Method.ToLowerInvariant(),
            };
            return $"queue:{queue}:{operation}";
        }

        return $"queue:{queue}:queue-{request.Method.ToLowerInvariant()}";
    }

    [GeneratedRegex(@"(?:POST|PUT|PATCH|MERGE|DELETE|GET) https?://[^/\s]+/[^/\s]+/([A-Za-z0-9]+)")]
    private static partial Regex BatchTable();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _forward.Dispose();
    }
}

/// <summary>Counters at one moment; subtract two to get what happened in between.</summary>
public sealed record StorageCounts(long Total, IReadOnlyDictionary<string, long> ByKind)
{
    public static readonly StorageCounts Empty = new(0, new SortedDictionary<string, long>());

    public StorageCounts Minus(StorageCounts earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var kinds = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (kind, count) in ByKind)
        {
            var delta = count - earlier.ByKind.GetValueOrDefault(kind);
            if (delta != 0)
            {
                kinds[kind] = delta;
            }
        }

        return new StorageCounts(Total - earlier.Total, kinds);
    }
}
