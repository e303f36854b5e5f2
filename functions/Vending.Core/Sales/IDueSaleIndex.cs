using Azure;

namespace Vending.Core.Sales;

/// <summary>One row of the due index: the reconciler should look at <see cref="Reference"/> at <see cref="DueAt"/>.
/// <see cref="ETag"/>: the row's as listed (default: not known), which guards its removal.</summary>
public sealed record DueEntry(string Reference, DateTimeOffset DueAt, string RowKey, ETag ETag = default)
{
    /// <summary>A row's key: its due time (whole milliseconds, 19 digits of ticks) then the reference, so the index reads
    /// in due order and one sale may have a row at each of several times.</summary>
    public static string KeyFor(string reference, DateTimeOffset dueAt) =>
        $"{DueSchedule.Normalize(dueAt).UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)}-{reference}";
}

public interface IDueSaleIndex
{
    /// <summary>Lists the sale at <paramref name="dueAt"/> (idempotent); returns the row's ETag as written.</summary>
    Task<ETag> AddAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>Removes the sale's row at <paramref name="dueAt"/> (absent is fine).</summary>
    Task RemoveAsync(string reference, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>Removes rows in entity-group transactions of up to 100 (the index is one partition). A row already
    /// gone, or rewritten since its <see cref="DueEntry.ETag"/> was taken, is left out and the rest of its batch
    /// submitted again. Returns how many rows this call removed.</summary>
    Task<int> RemoveManyAsync(IReadOnlyCollection<DueEntry> rows, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="max"/> rows due at or before <paramref name="now"/>, earliest first: one query,
    /// whatever the number of open sales.</summary>
    Task<IReadOnlyList<DueEntry>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Every row in due order, after <paramref name="afterRowKey"/> (null: from the start), at most
    /// <paramref name="max"/>: the operator report's walk over open sales.</summary>
    Task<IReadOnlyList<DueEntry>> ListAsync(int max, string? afterRowKey, CancellationToken cancellationToken);
}
