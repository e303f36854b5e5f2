using Microsoft.Azure.Functions.Worker;
using Vending.Core.Commands;
using Vending.Core.Sales;

namespace VendingFunctions.Queues;

/// <summary>Capture / cancel / refund / release commands. An exception makes the host retry the message and, after
/// host.json's maxDequeueCount, move it to the poison queue, whose trigger marks the sale failed for an operator.</summary>
public sealed class SaleCommandFunctions(ISaleCommandProcessor processor)
{
    /// <param name="dequeueCount">Bound by name from the trigger metadata (DequeueCount).</param>
    [Function("SaleCommand")]
    public Task Run(
        [QueueTrigger(QueueNames.SaleCommands, Connection = "VendingStorage")] string message, long dequeueCount, CancellationToken cancellationToken) =>
        processor.ProcessAsync(message, dequeueCount, cancellationToken);

    [Function("SaleCommandPoison")]
    public Task Poison(
        [QueueTrigger(QueueNames.SaleCommandsPoison, Connection = "VendingStorage")] string message, CancellationToken cancellationToken) =>
        processor.ProcessPoisonAsync(message, cancellationToken);
}
