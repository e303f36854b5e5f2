using Azure.Core;
using Azure.Core.Pipeline;

namespace Vending.Core.Tests.Storage;

/// <summary>Sends the first batch request twice and hands back the second answer, as when a response is lost and the SDK retries.</summary>
internal sealed class ReplayFirstBatch : HttpPipelinePolicy
{
    public bool Armed { get; set; }

    public bool Replayed { get; private set; }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("async only");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        if (Armed && !Replayed && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
        {
            Replayed = true;
            await ProcessNextAsync(message, pipeline);
        }
    }
}
