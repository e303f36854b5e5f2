using Azure.Storage.Queues;
using Vending.Core.Commands;
using Vending.Core.Sales;

namespace FunctionsHost.Tests;

/// <summary>host.json's poison rule through the real worker: a command the worker's function keeps failing on is
/// tried maxDequeueCount times, then moved to <c>{queue}-poison</c>, where the poison function takes it.</summary>
public sealed class QueuePoisonTests
{
    [Fact]
    public async Task A_message_the_function_keeps_failing_on_moves_to_the_poison_queue_after_max_dequeue_count_and_the_poison_function_runs()
    {
        await using var stack = await HostStack.StartAsync(queues: queues =>
        {
            queues["maxDequeueCount"] = 2;
            queues["visibilityTimeout"] = "00:00:00";
        });
        var queue = new QueueClient(stack.StorageConnectionString, QueueNames.SaleCommands, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();

        // A reference no table key can hold: reading the sale fails in storage, on every attempt, in both functions.
        var sent = await queue.SendMessageAsync("""{"reference":"bad/ref\\#?","operationId":"op-1","kind":"capture","amount":100}""");
        var id = sent.Value.MessageId;

        await HostStack.WaitUntilAsync(
            () => Task.FromResult(stack.Logs.Any(l => l.Contains($"Message {id} of queue {QueueNames.SaleCommands} moved to {QueueNames.SaleCommandsPoison} after 2 attempts", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(90), "the message moved to the poison queue", stack.ErrorLogs);

        // The poison function took it from there (and, failing the same way, poisoned it in turn).
        await HostStack.WaitUntilAsync(
            () => Task.FromResult(stack.Logs.Count(l => l.Contains($"of queue {QueueNames.SaleCommandsPoison} moved to {QueueNames.SaleCommandsPoison}-poison after 2 attempts", StringComparison.Ordinal)) == 1),
            TimeSpan.FromSeconds(90), "the poison function ran on it", stack.ErrorLogs);
        Assert.Equal(2, stack.Logs.Count(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains($"Function SaleCommand failed on message {id}", StringComparison.Ordinal)));
        Assert.False((await queue.PeekMessagesAsync()).Value.Length > 0, "the command is no longer in its queue");
    }
}
