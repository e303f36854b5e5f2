using Azure.Data.Tables;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>
/// The storage shape of an outbox row: RowKey <c>s-{reference}-o-{Sequence:D6}</c> in the sale's machine partition of
/// the <c>Sales</c> table (PartitionKey = the machine id the reference names), the fields of <see cref="OutboxEvent"/>
/// as properties, plus <c>Sent</c>. The sale store writes rows with <see cref="ToEntity"/> inside its transition's
/// transaction; <see cref="PendingOutboxTable"/> reads them back with <see cref="ToEvent"/> for the dispatcher. The
/// <c>s-{reference}-</c> prefix is the sale's row range (<see cref="SaleEntities"/>).
/// </summary>
public static class OutboxRows
{
    public const string SalesTable = "Sales";
    public const string OpenSalesTable = "OpenSales";
    /// <summary>The due index's partition (<c>Storage.DueSaleIndex</c>; RowKey <c>{dueTicks:D19}-{reference}</c>).</summary>
    public const string OpenSalesPartition = "due";

    /// <summary>Within a sale's range every outbox RowKey continues with this; "o." is the first key past it ('.' follows '-').</summary>
    public const string RowKeyInfix = "o-";

    public const string SentProperty = "Sent";
    public const string SentAtProperty = "SentAt";

    /// <summary>The partition of the sale's rows: its machine's (<see cref="SaleEntities.Partition"/>).</summary>
    public static string Partition(string reference) => SaleEntities.Partition(reference);

    public static string RowKey(string reference, long sequence) => $"{RangeStart(reference)}{sequence:D6}";

    public static string RangeStart(string reference) => SaleEntities.RowPrefix(reference) + RowKeyInfix;

    public static string RangeEnd(string reference) => TableKeys.RangeEnd(RangeStart(reference));

    public static string EventId(string reference, long sequence) => OutboxEvent.IdFor(reference, sequence);

    /// <summary>The pending outbox row for <paramref name="outboxEvent"/> (Sent = false).</summary>
    public static TableEntity ToEntity(OutboxEvent outboxEvent) => new(Partition(outboxEvent.Reference), RowKey(outboxEvent.Reference, outboxEvent.Sequence))
    {
        [nameof(OutboxEvent.EventId)] = outboxEvent.EventId,
        [nameof(OutboxEvent.Type)] = outboxEvent.Type,
        [nameof(OutboxEvent.Reference)] = outboxEvent.Reference,
        [nameof(OutboxEvent.Sequence)] = outboxEvent.Sequence,
        [nameof(OutboxEvent.Time)] = outboxEvent.Time.ToUniversalTime(),
        [nameof(OutboxEvent.MachineId)] = outboxEvent.MachineId,
        [nameof(OutboxEvent.MerchantId)] = outboxEvent.MerchantId,
        [nameof(OutboxEvent.State)] = outboxEvent.State,
        [nameof(OutboxEvent.Currency)] = outboxEvent.Currency,
        [nameof(OutboxEvent.Amount)] = outboxEvent.Amount,
        [nameof(OutboxEvent.AuthorizedAmount)] = outboxEvent.AuthorizedAmount,
        [nameof(OutboxEvent.CapturedAmount)] = outboxEvent.CapturedAmount,
        [nameof(OutboxEvent.CancelledAmount)] = outboxEvent.CancelledAmount,
        [nameof(OutboxEvent.RefundedAmount)] = outboxEvent.RefundedAmount,
        [SentProperty] = false,
    };

    /// <summary>Reads an outbox row. Lenient about numeric widths (a writer may store small numbers as Int32) and
    /// falls back to the RowKey / PartitionKey for Sequence, Reference and EventId, which the key design fixes anyway.</summary>
    public static OutboxEvent ToEvent(TableEntity entity)
    {
        var reference = entity.GetString(nameof(OutboxEvent.Reference)) ?? ReferenceFromRowKey(entity.RowKey);
        var sequence = Int64(entity, nameof(OutboxEvent.Sequence)) ?? SequenceFromRowKey(entity.RowKey);
        return new OutboxEvent(
            EventId: entity.GetString(nameof(OutboxEvent.EventId)) ?? EventId(reference, sequence),
            Type: Required(entity, nameof(OutboxEvent.Type)),
            Reference: reference,
            Sequence: sequence,
            Time: Time(entity),
            MachineId: Required(entity, nameof(OutboxEvent.MachineId)),
            MerchantId: Required(entity, nameof(OutboxEvent.MerchantId)),
            State: Required(entity, nameof(OutboxEvent.State)),
            Currency: Required(entity, nameof(OutboxEvent.Currency)),
            Amount: Int64(entity, nameof(OutboxEvent.Amount)) ?? 0,
            AuthorizedAmount: Int64(entity, nameof(OutboxEvent.AuthorizedAmount)) ?? 0,
            CapturedAmount: Int64(entity, nameof(OutboxEvent.CapturedAmount)) ?? 0,
            CancelledAmount: Int64(entity, nameof(OutboxEvent.CancelledAmount)) ?? 0,
            RefundedAmount: Int64(entity, nameof(OutboxEvent.RefundedAmount)) ?? 0);
    }

    private static string Required(TableEntity entity, string name) =>
        entity.GetString(name) ?? throw new InvalidDataException(
            $"Outbox row {entity.PartitionKey}/{entity.RowKey} has no {name}.");

    private static long? Int64(TableEntity entity, string name) => entity.TryGetValue(name, out var value) switch
    {
        false => null,
        true => value switch
        {
            null => null,
            long l => l,
            int i => i,
            string s when long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new InvalidDataException($"Outbox row {entity.PartitionKey}/{entity.RowKey}: {name} is not an integer."),
        },
    };

    private static DateTimeOffset Time(TableEntity entity) => entity.TryGetValue(nameof(OutboxEvent.Time), out var value) switch
    {
        true when value is DateTimeOffset dto => dto.ToUniversalTime(),
        true when value is DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        // A row without an explicit Time still has the service's write time, which is when the transition happened.
        _ => entity.Timestamp?.ToUniversalTime()
             ?? throw new InvalidDataException($"Outbox row {entity.PartitionKey}/{entity.RowKey} has no Time."),
    };

    /// <summary>The sequence after the last "-o-" of the RowKey (a reference never contains "-o-" followed by digits only).</summary>
    private static long SequenceFromRowKey(string rowKey)
    {
        var at = rowKey.LastIndexOf("-" + RowKeyInfix, StringComparison.Ordinal);
        return at >= 0
            && long.TryParse(rowKey.AsSpan(at + 1 + RowKeyInfix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence)
                ? sequence
                : throw new InvalidDataException($"Outbox RowKey {rowKey} does not carry a sequence.");
    }

    private static string ReferenceFromRowKey(string rowKey)
    {
        var at = rowKey.LastIndexOf("-" + RowKeyInfix, StringComparison.Ordinal);
        return rowKey.StartsWith("s-", StringComparison.Ordinal) && at > 2
            ? rowKey[2..at]
            : throw new InvalidDataException($"Outbox RowKey {rowKey} does not carry a reference.");
    }
}
