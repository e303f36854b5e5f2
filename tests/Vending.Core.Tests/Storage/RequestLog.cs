using Azure.Core;
using Azure.Core.Pipeline;

namespace Vending.Core.Tests.Storage;

/// <summary>Records every table request of a client (method, path, answer status), to prove what a step costs.</summary>
public sealed class RequestLog : HttpPipelinePolicy
{
    private readonly List<string> _requests = [];

    public bool Recording { get; set; } = true;

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public void Clear()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("async only");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        if (!Recording)
        {
            return;
        }

        // "GET /Sales(PartitionKey='x',RowKey='state') 200": the table and the keys tell which row was touched.
        var path = Uri.UnescapeDataString(message.Request.Uri.Path);
        path = path[(path.IndexOf('/', 1) is var slash and > 0 ? slash : 0)..];
        lock (_requests)
        {
            _requests.Add($"{message.Request.Method} {path} {message.Response.Status}");
        }
    }
}
