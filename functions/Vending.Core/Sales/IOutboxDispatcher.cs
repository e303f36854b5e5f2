namespace Vending.Core.Sales;

/// <summary>Publishes outbox events: those a transition just committed (from memory, by the recorder), a sale's
/// pending rows (read from storage), and the leftovers of sales that are due (timer sweep).</summary>
public interface IOutboxDispatcher
{
    /// <summary>Publishes <paramref name="events"/> in order, stopping at the first failure; returns how many went.
    /// Marks nothing: the caller records them as sent with the sale's next write.</summary>
    Task<int> PublishAsync(IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken);

    Task<int> DispatchAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Reads the sale's pending rows and publishes them in order without marking them (the caller marks them
    /// with its next write). <c>Complete</c>: nothing is left unpublished.</summary>
    Task<(IReadOnlyList<long> Published, bool Complete)> PublishPendingAsync(string reference, CancellationToken cancellationToken);

    Task<int> SweepAsync(CancellationToken cancellationToken);
}
