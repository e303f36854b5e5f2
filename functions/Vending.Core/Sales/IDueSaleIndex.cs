namespace Vending.Core.Sales;

/// <summary>One row of the due index: the reconciler should look at <see cref="Reference"/> at <see cref="DueAt"/>.</summary>
public sealed record DueEntry(string Reference, DateTimeOffset DueAt, string RowKey);

public interface IDueSaleIndex
{
    /// <summary>Lists the sale at <paramref name="dueAt"/> (idempotent).</summary>
    Task AddAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>Removes the sale's row at <paramref name="dueAt"/> (absent is fine).</summary>
    Task RemoveAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="max"/> rows due at or before <paramref name="now"/>, earliest first: one query,
    /// whatever the number of open sales.</summary>
    Task<IReadOnlyList<DueEntry>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Every row in due order, after <paramref name="afterRowKey"/> (null: from the start), at most
    /// <paramref name="max"/>: the operator report's walk over open sales.</summary>
    Task<IReadOnlyList<DueEntry>> ListAsync(int max, string? afterRowKey, CancellationToken cancellationToken);
}
