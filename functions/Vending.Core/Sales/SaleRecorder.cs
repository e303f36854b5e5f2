using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Observability;

namespace Vending.Core.Sales;

/// <summary>
/// The one owner of a sale step: load (this instance's cached row and ETag, else a read), decide
/// (<see cref="SaleTransitions.Decide"/>), commit (one entity-group transaction guarded by the loaded ETag; a repeat
/// fails on its dedupe row inside it), then the side effects in this order: wake long polls, note the sale's old due
/// row as left behind (the reconciler removes it in a batch), enqueue commands, publish the outbox events. The side
/// effects are each safe to lose: the reconciler re-sends commands pending too long and publishes what is left when it
/// closes the sale.
/// </summary>
public sealed class SaleRecorder(
    ISaleStore store,
    SaleRowCache cache,
    IDueSaleIndex due,
    ISaleCommandQueue commands,
    SaleChangeNotifier notifier,
    IEnumerable<IOutboxDispatcher> dispatchers,
    IOptions<VendingOptions> options,
    TimeProvider time,
    ILogger<SaleRecorder> logger)
{
    /// <summary>Enough for a burst of webhooks, commands and polls racing on one sale; each round re-decides on fresh state.</summary>
    internal const int MaxAttempts = 10;

    private readonly IOutboxDispatcher? _dispatcher = dispatchers.FirstOrDefault();

    public async Task<TransitionResult> RecordAsync(string reference, SaleEvent saleEvent, string? dedupeRowKey, CancellationToken cancellationToken)
    {
        var stored = cache.TryGet(reference);
        var verified = false;
        for (var attempt = 1; ; attempt++)
        {
            if (stored is null)
            {
                stored = await store.LoadAsync(reference, cancellationToken);
                verified = true;
                if (stored is null)
                {
                    return new TransitionResult(TransitionOutcome.NotFound, null, null);
                }
            }

            var decision = SaleTransitions.Decide(stored.Sale, saleEvent, time.GetUtcNow());
            if (decision.Kind != DecisionKind.Record)
            {
                if (!verified)
                {
                    // Never refuse or ignore on a cached row: another instance may have moved the sale on.
                    stored = null;
                    attempt--;
                    continue;
                }

                // A repeat is a repeat whatever the state machine would now say about it (ignore, or refuse a refund
                // that already moved the sale on): the dedupe row says which.
                if (dedupeRowKey is not null && await store.DedupeExistsAsync(reference, dedupeRowKey, cancellationToken))
                {
                    return new TransitionResult(TransitionOutcome.Duplicate, stored.Sale, null);
                }

                return new TransitionResult(decision.Kind == DecisionKind.Ignore ? TransitionOutcome.Ignored : TransitionOutcome.Refused, stored.Sale, decision);
            }

            var dueAt = await PlanDueAsync(stored, decision.Sale, cancellationToken);
            var marks = cache.UnmarkedSent(reference);
            var commit = await store.CommitAsync(stored, decision, dedupeRowKey, dueAt, marks, cancellationToken);
            switch (commit.Outcome)
            {
                case CommitOutcome.Committed:
                    cache.Marked(reference, marks);
                    await AfterCommitAsync(stored, commit.Stored!, decision, saleEvent, cancellationToken);
                    return new TransitionResult(TransitionOutcome.Recorded, commit.Stored!.Sale, decision);
                case CommitOutcome.Duplicate:
                    return new TransitionResult(TransitionOutcome.Duplicate, stored.Sale, null);
            }

            if (commit.Stored is null)
            {
                return new TransitionResult(TransitionOutcome.NotFound, null, null);
            }

            if (attempt >= MaxAttempts)
            {
                logger.LogError("Sale {Reference}: {Event} lost the race {Attempts} times; giving up", reference, saleEvent.GetType().Name, attempt);
                throw new InvalidOperationException($"Sale {reference}: {saleEvent.GetType().Name} lost the race {attempt} times.");
            }

            logger.LogDebug("Sale {Reference} changed under {Event}; deciding again", reference, saleEvent.GetType().Name);
            stored = commit.Stored;
            verified = true;
        }
    }

    /// <summary>Creates a new sale (one transaction in its machine's partition: <see cref="ISaleStore.CreateAsync"/>) and
    /// its first due row, side by side (one round trip less on the create's path). A failed due row fails the create,
    /// and the machine's retry (a replay) lists the sale again before answering; a create that turns out a replay or
    /// refused leaves a due row the reconciler drops (no sale behind it).</summary>
    public Task<SaleCreation> CreateAsync(Sale sale, CancellationToken cancellationToken)
    {
        var dueAt = DueSchedule.Normalize(DueSchedule.AtCreate(sale, options.Value));
        return store.CreateAsync(sale, dueAt, () => due.AddAsync(sale.Reference, dueAt, cancellationToken), cancellationToken);
    }

    /// <summary>A replayed create lists the sale again at its due time (idempotent): the first try may have written
    /// the sale and failed on its due row.</summary>
    public async Task<Sale?> LoadForReplayAsync(string reference, CancellationToken cancellationToken)
    {
        var stored = await store.LoadAsync(reference, cancellationToken);
        if (stored?.DueAt is { } dueAt)
        {
            await due.AddAsync(reference, dueAt, cancellationToken);
        }

        return stored?.Sale;
    }

    public async Task EnqueueAsync(SaleCommand command, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await commands.EnqueueAsync(command, delay, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Recorded as pending; the reconciler sends it again once it is stale.
            logger.LogWarning(exception, "Sale {Reference}: command {OperationId} not enqueued; the reconciler re-sends it", command.Reference, command.OperationId);
        }
    }

    /// <summary>
    /// The due time the commit writes. The row moves only when the sale now needs the reconciler earlier than its
    /// row says (a later need is met by the reconciler moving the row on when it visits; a finished sale waits for
    /// its row as it is). The new row is written before the commit, so a failure between leaves an extra row (a
    /// harmless visit), never a sale without one.
    /// </summary>
    private async Task<DateTimeOffset?> PlanDueAsync(StoredSale stored, Sale next, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var needed = DueSchedule.Next(next, options.Value, now);
        if (stored.DueAt is { } current && (needed >= current || DueSchedule.IsClosable(next)))
        {
            return current;
        }

        needed = DueSchedule.Normalize(needed);
        try
        {
            cache.DueRowWritten(next.Reference, needed, await due.AddAsync(next.Reference, needed, cancellationToken));
            return needed;
        }
        catch (Exception exception) when (exception is not OperationCanceledException && stored.DueAt is not null)
        {
            // The old row still stands (later than wanted): the step is not held up by the index.
            logger.LogWarning(exception, "Sale {Reference}: due row not moved to {DueAt}", next.Reference, needed);
            return stored.DueAt;
        }
    }

    private async Task AfterCommitAsync(StoredSale before, StoredSale after, SaleDecision decision, SaleEvent saleEvent, CancellationToken cancellationToken)
    {
        var reference = after.Sale.Reference;
        notifier.Notify(reference);

        SaleMetrics.Recorded(after.Sale, saleEvent, decision);
        if (decision.StateChanged)
        {
            logger.LogInformation("Sale {Reference}: {Event} → {State}", reference, decision.History!.Type, after.Sale.State);
        }

        if (before.DueAt is { } old && old != after.DueAt)
        {
            // The old row is not removed here (one request per move): it is later than the new one, so the reconciler
            // finds it stale (or removes it with the sale's next visit), in a batch with the other rows of its pass.
            cache.LeftBehind(reference, old);
        }

        foreach (var operation in decision.Commands)
        {
            // An operation issued for later (a "not now" answer re-issued under a new key) waits until then.
            var delay = operation.NextAttemptAt is { } next && next > operation.IssuedAt ? next - operation.IssuedAt : TimeSpan.Zero;
            await EnqueueAsync(SaleCommand.For(reference, operation), delay, cancellationToken);
        }

        if (decision.Outbox.Count > 0)
        {
            await PublishAsync(before.Sale, decision.Outbox, cancellationToken);
        }
    }

    /// <summary>Publishes the events just committed from memory (no query). Only when every earlier event of the sale
    /// is known published here, so a sale's events never leave out of order; otherwise the dispatcher reads what is
    /// pending (one query) and publishes it all in order. Either way the rows are marked sent by the sale's next batch
    /// (or its close), never one update each.</summary>
    private async Task PublishAsync(Sale before, IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken)
    {
        if (_dispatcher is null)
        {
            return;
        }

        var reference = before.Reference;
        try
        {
            if (before.OutboxSequence == 0 || cache.PublishedThrough(reference) >= before.OutboxSequence)
            {
                var published = await _dispatcher.PublishAsync(events, cancellationToken);
                cache.Published(reference, events.Take(published).Select(e => e.Sequence).ToList());
                if (published == events.Count)
                {
                    return;
                }
            }
            else
            {
                // Earlier steps were made elsewhere (another instance, or before a restart): publish every pending event
                // in order. Their "sent" marks ride on the sale's next batch or its close, as on the path above, rather
                // than one update per row (the rows share the machine partition and that batch).
                var (published, complete) = await _dispatcher.PublishPendingAsync(reference, cancellationToken);
                cache.Published(reference, published);
                if (complete)
                {
                    // Nothing of the sale is left unpublished: the next step here publishes from memory.
                    cache.PublishedThroughAll(reference, events[^1].Sequence);
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Sale {Reference}: outbox publish failed; the reconciler publishes it when it closes the sale", reference);
        }

        // Not all published: have the reconciler look soon rather than at the sale's next due time.
        try
        {
            await due.AddAsync(reference, time.GetUtcNow() + DueSchedule.RevisitFloor, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Sale {Reference}: could not list the sale for the outbox retry", reference);
        }
    }
}
