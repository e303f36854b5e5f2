namespace Vending.Core.Sales;

public enum TransitionOutcome
{
    /// <summary>The decision was written (state, history, outbox, dedupe row: one transaction).</summary>
    Recorded,

    /// <summary>The event told nothing new; nothing written.</summary>
    Ignored,

    /// <summary>The same Vipps event (or request) was already recorded: its dedupe row exists.</summary>
    Duplicate,

    /// <summary>Refused by the state machine; nothing written.</summary>
    Refused,

    NotFound,
}

public sealed record TransitionResult(TransitionOutcome Outcome, Sale? Sale, SaleDecision? Decision);

public enum CommitOutcome
{
    /// <summary>Written; <see cref="CommitResult.Stored"/> is the new row and ETag.</summary>
    Committed,

    /// <summary>The row changed since it was loaded; <see cref="CommitResult.Stored"/> is the fresh row (null: gone).</summary>
    Stale,

    /// <summary>The dedupe row of the batch exists: the same event or request was recorded before. Nothing written.</summary>
    Duplicate,
}

public sealed record CommitResult(CommitOutcome Outcome, StoredSale? Stored);

/// <summary>The sale's rows as the use cases need them: a port owned here, implemented by
/// <c>Vending.Core.Storage.SaleStore</c> (docs/core.md, "Layers").</summary>
public interface ISaleStore
{
    /// <summary>The sale as stored now (a read; operator and test reads). The write path uses <see cref="LoadAsync"/>.</summary>
    Task<Sale?> GetAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Reads the state row and its ETag (and caches them for this instance).</summary>
    Task<StoredSale?> LoadAsync(string reference, CancellationToken cancellationToken);

    /// <summary>This instance's cached row (no read): only for facts that never change (owner, merchant) or a row
    /// this instance just committed.</summary>
    Sale? CachedOrNull(string reference);

    /// <summary>This instance's cached row, else a read.</summary>
    Task<StoredSale?> LoadCachedAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Creates <paramref name="sale"/> in its machine's partition as one entity-group transaction: the machine's
    /// <c>open</c> marker (replaced under its ETag, or added), the <c>id-{machineSaleId}</c> claim, the listing row, the
    /// state row and the first history row. A claim that exists is a replay; a machine whose open sale still occupies it
    /// refuses. <paramref name="beside"/> runs alongside the transaction the first time it is submitted (the due row:
    /// one round trip less on the create's path).</summary>
    Task<SaleCreation> CreateAsync(Sale sale, DateTimeOffset dueAt, Func<Task>? beside, CancellationToken cancellationToken);

    /// <summary>The reference a machine sale id was claimed for, if any.</summary>
    Task<string?> FindByMachineSaleIdAsync(string machineId, string machineSaleId, CancellationToken cancellationToken);

    /// <summary>The machine's sales, newest first.</summary>
    Task<IReadOnlyList<MachineSaleListing>> ListByMachineAsync(string machineId, int max, CancellationToken cancellationToken);

    /// <summary>One query for a sale this instance does not know (the reconciler's visit after a restart or of another
    /// instance's sale): the state row as <see cref="LoadAsync"/> reads it (and caches it) and the outbox rows not yet
    /// marked sent, in sequence order.</summary>
    Task<(StoredSale? Stored, IReadOnlyList<OutboxEvent> Pending)> LoadWithPendingOutboxAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="decision"/> on the row it was decided on, as one entity-group transaction: the
    /// state row (guarded by <paramref name="loaded"/>'s ETag), the history row, the dedupe row (its insert fails on a
    /// repeat), the outbox rows, and "sent" marks on outbox rows published since the last write.</summary>
    Task<CommitResult> CommitAsync(StoredSale loaded, SaleDecision decision, string? dedupeRowKey, DateTimeOffset? dueAt,
        IReadOnlyList<long> markSent, CancellationToken cancellationToken);

    /// <summary>Moves the sale's due time (null: closes it) and marks outbox rows sent, guarded by the ETag.
    /// Null: the row changed meanwhile (nothing written).</summary>
    Task<StoredSale?> SetDueAsync(StoredSale loaded, DateTimeOffset? dueAt, IReadOnlyList<long> markSent, CancellationToken cancellationToken);

    Task<bool> DedupeExistsAsync(string reference, string dedupeRowKey, CancellationToken cancellationToken);

    Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken);

    Task<bool> HasUnsentOutboxAsync(string reference, CancellationToken cancellationToken);
}
