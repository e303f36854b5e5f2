using Vending.Domain.Events;

namespace Vending.Core.Events;

/// <summary>A sale's outbox event not yet marked sent, with where it is kept and the version it was read at
/// (<see cref="Version"/>: the row's ETag, which guards marking it sent).</summary>
public sealed record PendingOutboxEvent(OutboxEvent Event, string Partition, string RowKey, string Version);

/// <summary>A sale listed in the due index: its reference and its place in the index (<see cref="Position"/>, a cursor
/// for the next page).</summary>
public sealed record OverdueSale(string Reference, string Position);

/// <summary>The dispatcher's view of the outbox rows and the due index (kept in storage: the sale's machine partition
/// of <c>Sales</c>, and <c>OpenSales</c>).</summary>
public interface IPendingOutbox
{
    /// <summary>The sale's events not yet marked sent, in storage order; one query.</summary>
    Task<IReadOnlyList<PendingOutboxEvent>> PendingAsync(string partition, string reference, CancellationToken cancellationToken);

    /// <summary>Marks the event sent at <paramref name="sentAt"/> if its row is still at the version read. False when it
    /// is not (another dispatcher marked it, or the sale removed it): delivered all the same. Other storage failures
    /// throw (<see cref="Azure.RequestFailedException"/>).</summary>
    Task<bool> MarkSentAsync(PendingOutboxEvent pending, DateTimeOffset sentAt, CancellationToken cancellationToken);

    /// <summary>Sales due before <paramref name="dueBefore"/> (inclusive), after <paramref name="after"/> (a
    /// <see cref="OverdueSale.Position"/>, or empty for the earliest), in due order, asked in pages of
    /// <paramref name="pageSize"/>. Throws <see cref="Azure.RequestFailedException"/> with status 404 when the index's
    /// table does not exist.</summary>
    IAsyncEnumerable<OverdueSale> OverdueAsync(string after, DateTimeOffset dueBefore, int pageSize, CancellationToken cancellationToken);
}
