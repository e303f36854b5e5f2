namespace Vending.Domain.Events;

/// <summary>
/// One outgoing payment event, written as an outbox row (RowKey <c>o-{Sequence:D6}</c> in the sale's partition
/// of the <c>Sales</c> table, property <c>Sent</c> = false) in the same entity-group transaction as the transition
/// that caused it. The dispatcher publishes it later and marks it sent, so a crash can neither lose it nor announce
/// what never happened. <see cref="EventId"/> = "{Reference}-{Sequence:D6}" is stable across re-sends
/// (the Service Bus MessageId, so duplicate detection drops re-sends).
/// </summary>
public sealed record OutboxEvent(
    string EventId,
    string Type,
    string Reference,
    long Sequence,
    DateTimeOffset Time,
    string MachineId,
    string MerchantId,
    string State,
    string Currency,
    long Amount,
    long AuthorizedAmount,
    long CapturedAmount,
    long CancelledAmount,
    long RefundedAmount)
{
    /// <summary>"{Reference}-{Sequence:D6}": the same id however often the row is sent.</summary>
    public static string IdFor(string reference, long sequence) => $"{reference}-{sequence:D6}";
}

/// <summary>Event types: "vending.sale.{created|authorized|vend_reported|captured|cancelled|aborted|expired|failed|refunded}.v1".</summary>
public static class OutboxEventTypes
{
    public static string For(string transition) => $"vending.sale.{transition}.v1";
}
