namespace Vending.Core.Commands;

/// <summary>
/// Runs the capture / cancel / refund commands that ride the <c>sale-commands</c> queue (base64 JSON).
/// Called by the queue-triggered function and by the local runner with the message text as received.
/// </summary>
public interface ISaleCommandProcessor
{
    /// <summary>Executes one command with its stable idempotency key and records the outcome on the sale.
    /// A transient failure is re-enqueued with a growing delay (the message completes); an unexpected exception
    /// propagates so the host retries and finally moves the message to the poison queue.</summary>
    Task ProcessAsync(string messageText, long dequeueCount, CancellationToken cancellationToken);

    /// <summary>A message that kept failing: mark its sale failed (visible to operators) and log an error.</summary>
    Task ProcessPoisonAsync(string messageText, CancellationToken cancellationToken);
}
