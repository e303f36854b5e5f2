using System.Collections.Concurrent;
using Azure.Storage.Queues;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>The <c>sale-commands</c> Storage queue. The client must use base64 message encoding (what the Functions
/// queue trigger expects); the queues are created on first use, once per process.</summary>
public sealed class SaleCommandQueue(QueueServiceClient service) : ISaleCommandQueue
{
    private readonly ConcurrentDictionary<string, Lazy<Task<QueueClient>>> _queues = new(StringComparer.Ordinal);

    public async Task EnqueueAsync(SaleCommand command, TimeSpan delay, CancellationToken cancellationToken)
    {
        var queue = await QueueAsync(QueueNames.SaleCommands, cancellationToken);
        await queue.SendMessageAsync(SaleCommandTracing.Stamp(command).ToJson(), delay > TimeSpan.Zero ? delay : null, cancellationToken: cancellationToken);
    }

    private async Task<QueueClient> QueueAsync(string name, CancellationToken cancellationToken)
    {
        var lazy = _queues.GetOrAdd(name, queueName => new Lazy<Task<QueueClient>>(async () =>
        {
            var client = service.GetQueueClient(queueName);
            await client.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
            // The host moves failing messages here; created too so operators and the local runner find it.
            await service.GetQueueClient(QueueNames.SaleCommandsPoison).CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
            return client;
        }));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _queues.TryRemove(new KeyValuePair<string, Lazy<Task<QueueClient>>>(name, lazy));
            throw;
        }
    }
}
