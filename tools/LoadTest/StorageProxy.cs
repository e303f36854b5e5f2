using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LoadTest;

/// <summary>
/// A counting reverse proxy between the runner and Azurite (Table and Queue endpoints): every storage round trip the
/// runner makes passes here once and is counted by kind (table point read/write, query, entity-group batch, queue put,
/// get, delete). It forwards bytes unchanged, so Shared Key signatures (which do not sign the host) stay valid. This
/// measures storage requests per sale from outside, without a hook in the product.
/// </summary>
public sealed partial class StorageProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _forward;
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private long _total;

    private StorageProxy(WebApplication app, HttpClient forward, int tablePort, int queuePort)
    {
        _app = app;
        _forward = forward;
        TablePort = tablePort;
        QueuePort = queuePort;
    }

    public int TablePort { get; }

    public int QueuePort { get; }

    public long Total => Interlocked.Read(ref _total);

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
        var app = builder.Build();
        var forward = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
        var proxy = new StorageProxy(app, forward, tablePort, queuePort);
        var targets = new Dictionary<int, (string Service, Uri Target)>
        {
            [tablePort] = ("table", new Uri($"http://127.0.0.1:{azuriteTablePort}")),
            [queuePort] = ("queue", new Uri($"http://127.0.0.1:{azuriteQueuePort}")),
        };
        app.Run(context => proxy.ForwardAsync(context, targets[context.Connection.LocalPort]));
        await app.StartAsync();
        return proxy;
    }

    /// <summary>A copy of the counters ("table:Sales:batch" ... and "total").</summary>
    public StorageCounts Snapshot() => new(Total, new SortedDictionary<string, long>(_counts, StringComparer.Ordinal));

    private async Task ForwardAsync(HttpContext context, (string Service, Uri Target) route)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request);
        var kind = route.Service == "table" ? TableKind(request, body) : QueueKind(request);
        Interlocked.Increment(ref _total);

        using var outgoing = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(route.Target, request.Path.Value + request.QueryString.Value));
        if (body.Length > 0 || request.ContentLength is not null)
        {
            outgoing.Content = new ByteArrayContent(body);
        }

        foreach (var header in request.Headers)
        {
            if (header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!outgoing.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray()))
            {
                outgoing.Content?.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _forward.SendAsync(outgoing, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            Count(kind);
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                if (header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
                    || header.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                    || header.Key.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                context.Response.Headers[header.Key] = header.Value.ToArray();
            }

            if (kind.EndsWith(":get", StringComparison.Ordinal) && kind.StartsWith("queue:", StringComparison.Ordinal))
            {
                // A trigger's poll of an empty queue is idle cost, not work: told apart by the answer.
                var answer = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
                Count(System.Text.Encoding.UTF8.GetString(answer).Contains("<QueueMessage>", StringComparison.Ordinal) ? kind : kind + "-empty");
                await context.Response.Body.WriteAsync(answer, context.RequestAborted);
                return;
            }

            Count(kind);
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    private void Count(string kind) => _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
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
