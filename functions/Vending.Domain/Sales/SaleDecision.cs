using Vending.Domain.Events;

namespace Vending.Domain.Sales;

public enum DecisionKind
{
    /// <summary>Write <see cref="SaleDecision.Sale"/>, the history entry and outbox event (if any) in one transaction, then issue the commands.</summary>
    Record,

    /// <summary>Nothing to write: a repeat, or an event that tells nothing new.</summary>
    Ignore,

    /// <summary>The caller asked for something the sale does not allow; nothing changes.</summary>
    Refuse,
}

/// <summary>One history row: what happened, in words an operator reads.</summary>
public sealed record SaleHistoryEntry(long Sequence, DateTimeOffset Time, string Type, string Detail, SaleState State);

public sealed record SaleRefusal(RefusalKind Kind, string Code, string Message, string? Field = null)
{
    public SaleException ToException() => new(Kind, Code, Message, Field);
}

/// <summary>The outcome of <see cref="SaleTransitions.Decide"/>: pure data, applied by the storage edge.</summary>
public sealed record SaleDecision(
    DecisionKind Kind,
    Sale Sale,
    SaleHistoryEntry? History,
    IReadOnlyList<OutboxEvent> Outbox,
    IReadOnlyList<SaleOperation> Commands,
    SaleRefusal? Refusal)
{
    public bool StateChanged { get; init; }
}
