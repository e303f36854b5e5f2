using System.Text.RegularExpressions;
using Azure.Storage.Queues;
using Vending.Testing;
using Vending.Core.Commands;
using Vending.Core.Sales;

namespace FunctionsHost.Tests;

/// <summary>host.json's poison rule through the real worker: a command the worker's function keeps failing on is
/// tried maxDequeueCount times, then moved to <c>{queue}-poison</c>, where the poison function takes it. The failure is
/// the app's table storage being unreachable (its table endpoint is a port nobody listens on) while the host's queues
/// work: a command that names a sale can then never be read, on any attempt, in either function.</summary>
public sealed class QueuePoisonTests
{
    [Fact]
    public async Task A_message_the_function_keeps_failing_on_moves_to_the_poison_queue_after_max_dequeue_count_and_the_poison_function_runs()
    {
        await using var stack = await HostStack.StartAsync(
            settings => settings["VendingStorage"] = Regex.Replace(settings["VendingStorage"]!, @"TableEndpoint=http://127\.0\.0\.1:\d+",
                $"TableEndpoint=http://127.0.0.1:{Azurite.FreePort()}"),
            queues =>
            {
                queues["maxDequeueCount"] = 2;
                queues["visibilityTimeout"] = "00:00:00";
            });
        var queue = new QueueClient(stack.StorageConnectionString, QueueNames.SaleCommands, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();

        // A well-formed reference (a malformed one is dropped without any read): reading its sale fails in storage.
        var sent = await queue.SendMessageAsync("""{"reference":"vm-poison-abcdefghijklmnop","operationId":"op-1","kind":"capture","amount":100}""");
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
