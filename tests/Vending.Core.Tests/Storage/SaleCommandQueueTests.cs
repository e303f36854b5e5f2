using System.Text;
using Azure.Storage.Queues;
using Vending.Core.Commands;
using Vending.Core.Sales;
using Vending.Core.Storage;

namespace Vending.Core.Tests.Storage;

[Collection(nameof(AzuriteCollection))]
public class SaleCommandQueueTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Commands_are_base64_json_as_the_queue_trigger_expects()
    {
        var queue = new SaleCommandQueue(new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }));
        var command = new SaleCommand("ref-" + Guid.NewGuid().ToString("N")[..8], "capture1", "capture", 8000);

        await queue.EnqueueAsync(command, TimeSpan.Zero, default);

        // Read raw (no decoding), as the Functions host receives it.
        var raw = new QueueClient(azurite.ConnectionString, QueueNames.SaleCommands);
        var messages = (await raw.ReceiveMessagesAsync(32)).Value;
        var texts = messages.Select(message => Encoding.UTF8.GetString(Convert.FromBase64String(message.MessageText))).ToList();
        Assert.Contains(texts, text => SaleCommand.TryParse(text) == command);
        Assert.True(await new QueueClient(azurite.ConnectionString, QueueNames.SaleCommandsPoison).ExistsAsync());
    }
}
