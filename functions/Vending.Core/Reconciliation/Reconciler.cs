using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Observability;
using Vending.Core.Sales;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Reconciliation;

/// <summary>
/// One pass over what is due in the due index (<c>OpenSales</c>): finds what webhooks did not tell (Vipps' event log),
/// expires what Vipps left CREATED past expiry, releases authorizations whose machine never reported, re-sends commands
/// pending too long, retries creates whose Vipps answer was lost, records divergences from Vipps' aggregate, publishes
/// what the outbox still holds, and closes finished sales (their due row removed). Then it moves the sale's row to
/// the next time a rule needs it. A pass reads one query plus what is due: an idle pass is one request, whatever the
/// number of machines or open sales. One sale's failure does not stop the others.
/// </summary>
public sealed class Reconciler(
    IDueSaleIndex due,
    ISaleStore store,
    SaleRowCache cache,
    SaleRecorder recorder,
    PaymentCreation payments,
    VippsEventIngest ingest,
    IVippsEPaymentClient vipps,
    IEnumerable<IOutboxDispatcher> dispatchers,
    IOptions<VendingOptions> options,
    TimeProvider time,
    ILogger<Reconciler> logger) : IReconciler
{
    private readonly IOutboxDispatcher? _dispatcher = dispatchers.FirstOrDefault();

    public async Task<ReconcileReport> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = new ReconcilerPass(time.GetUtcNow(), options.Value);
        var entries = await due.ListDueAsync(time.GetUtcNow(), options.Value.ReconcileBatchSize, cancellationToken);
        var done = new ConcurrentQueue<DueEntry>();

        int changed = 0, enqueued = 0, errors = 0;
        // Sales are independent (each write is ETag-guarded), and most of a pass is waiting on storage and Vipps.
        // Two rows of one sale (a moved row not yet removed) are one visit.
        var visits = entries.GroupBy(entry => entry.Reference, StringComparer.Ordinal).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.ReconcileParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(visits, parallel, async (rows, ct) =>
        {
            try
            {
                var (saleChanged, commands) = await ReconcileAsync(rows.Key, rows.ToList(), pass, done, ct);
                if (saleChanged)
                {
                    Interlocked.Increment(ref changed);
                }

                Interlocked.Add(ref enqueued, commands);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref errors);
                logger.LogError(exception, "Reconciling sale {Reference} failed", rows.Key);
            }
        });

        await RemoveRowsAsync(done, cancellationToken);
        pass.Record();
        var report = new ReconcileReport(visits.Count, changed, enqueued, errors);
        if (changed + enqueued + errors > 0)
        {
            logger.LogInformation("Reconciler: {Examined} due sales, {Changed} changed, {Enqueued} commands re-sent, {Errors} errors",
                report.Examined, report.Changed, report.CommandsEnqueued, report.Errors);
        }

        return report;
    }

    /// <summary>
    /// Removes the rows the pass is done with, up to 100 per request (the index is one partition). Each was listed
    /// before the write that stopped its sale's state row naming it (or its sale never named it), and each removal is
    /// guarded by the ETag it was listed with: a row written again since (someone moved the sale back onto it) stays.
    /// Losing this step is harmless: a row left over costs one visit that finds it stale.
    /// </summary>
    private async Task RemoveRowsAsync(IReadOnlyCollection<DueEntry> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        try
        {
            await due.RemoveManyAsync(rows, cancellationToken);
            foreach (var row in rows)
            {
                cache.DueRowRemoved(row.Reference, row.DueAt);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "Reconciler: {Rows} visited due rows not removed; their next visit finds them stale", rows.Count);
        }
    }

    private async Task<(bool Changed, int Commands)> ReconcileAsync(string reference, IReadOnlyList<DueEntry> listed, ReconcilerPass pass,
        ConcurrentQueue<DueEntry> done, CancellationToken cancellationToken)
    {
        // Rows this instance moved the sale off, unchanged since: stale for certain (SaleRowCache.IsLeftBehind), so
        // no read, no rule, no Vipps call; they go with the pass's removals.
        var rows = new List<DueEntry>(listed.Count);
        foreach (var row in listed)
        {
            if (cache.IsLeftBehind(row))
            {
                done.Enqueue(row);
            }
            else
            {
                rows.Add(row);
            }
        }

        if (rows.Count == 0)
        {
            return (false, 0);
        }

        // This instance's row when it has one: every write below is ETag-guarded, and what is decided on it goes
        // through the recorder, which re-reads before refusing or ignoring.
        var stored = cache.TryGet(reference);
        if (stored is null || rows.All(row => row.DueAt != stored.DueAt))
        {
            // Not known here, or a row that is not the sale's current one by this instance's row: read, since another
            // instance may have moved the sale onto it, before deciding that it is stale. The same query brings the
            // outbox rows not marked sent, so what this instance does not know published needs no query of its own.
            (stored, var pending) = await store.LoadWithPendingOutboxAsync(reference, cancellationToken);
            if (stored is not null && stored.DueAt is not null)
            {
                await PublishLoadedAsync(stored.Sale, pending, cancellationToken);
            }
        }

        if (stored is null)
        {
            // Listed at create but its row never written (the create stopped): a retry by the machine writes both again.
            foreach (var row in rows)
            {
                done.Enqueue(row);
            }

            return (false, 0);
        }

        var now = time.GetUtcNow();
        if (rows.All(row => row.DueAt != stored.DueAt) && (stored.DueAt is null || stored.DueAt > now))
        {
            // Stale rows: the sale is listed at a later time (or closed), so no rule needs it now (its row is at or
            // before the earliest time one does). Only the outbox may have been the reason (a failed publish lists
            // the sale soon): publish what is pending, then drop the rows.
            await DropStaleAsync(stored, rows, done, cancellationToken);
            return (false, 0);
        }

        var sale = stored.Sale;
        pass.Observe(sale);
        var before = sale.State;
        var commands = 0;

        if (sale.State == SaleState.Created && !sale.PaymentCreated && now - sale.CreatedAt >= DueSchedule.CreateRetryAfter)
        {
            sale = (await payments.CreateAsync(sale, cancellationToken)).Sale;
        }
        else if (sale.State == SaleState.Created && sale.PaymentCreated)
        {
            await ingest.PollAsync(sale, cancellationToken);
            sale = Current(sale);
            if (sale.State == SaleState.Created && now >= sale.ExpiresAt + TimeSpan.FromSeconds(options.Value.ExpiryGraceSeconds))
            {
                var details = await vipps.GetPaymentAsync(sale.MerchantId, sale.Reference, cancellationToken);
                if (details.State == PaymentStates.Created)
                {
                    sale = (await recorder.RecordAsync(sale.Reference, new PaymentExpiryPassed(), null, cancellationToken)).Sale ?? sale;
                }
            }
        }

        if ((sale.State == SaleState.Authorized || SaleTransitions.AwaitsVendAfterCapture(sale)) && sale.Vend is null && sale.AuthorizedAt is { } authorizedAt
            && now - authorizedAt >= TimeSpan.FromSeconds(options.Value.VendReportDeadlineSeconds))
        {
            logger.LogWarning("Sale {Reference}: no vend report {Seconds} s after authorization; releasing (or refunding what was captured at authorization)",
                sale.Reference, options.Value.VendReportDeadlineSeconds);
            sale = (await recorder.RecordAsync(sale.Reference, new VendDeadlinePassed(), null, cancellationToken)).Sale ?? sale;
        }

        var stale = TimeSpan.FromSeconds(options.Value.CommandStaleSeconds);
        // Only chains that are overdue: a backoff recorded its next attempt, and re-sending before then would run a
        // second chain calling Vipps with the same key at the same time.
        foreach (var operation in sale.Operations.Where(operation => operation.Status == OperationStatus.Pending && now - operation.DueAt >= stale).ToList())
        {
            var result = await recorder.RecordAsync(sale.Reference, new CommandReenqueued(operation.Id), null, cancellationToken);
            if (result is { Outcome: TransitionOutcome.Recorded, Decision: { } decision })
            {
                commands += decision.Commands.Count;
                logger.LogWarning("Sale {Reference}: {OperationId} pending since {IssuedAt}; sent again", sale.Reference, operation.Id, operation.IssuedAt);
            }

            sale = result.Sale ?? sale;
        }

        await FinishVisitAsync(reference, rows, done, cancellationToken);
        return (Current(sale).State != before, commands);
    }

    /// <summary>A visit that found its rows stale (read fresh). An open sale's pending events are published (a failed
    /// publish lists the sale soon, and that row is such a stale one); their "sent" marks ride on the sale's next write.
    /// A closed sale has none: its close waited for them, and any later step lists it again. If the publish fails the
    /// rows stay, so the next pass tries again.</summary>
    private async Task DropStaleAsync(StoredSale stored, IReadOnlyList<DueEntry> rows, ConcurrentQueue<DueEntry> done, CancellationToken cancellationToken)
    {
        if (stored.DueAt is not null && !await OutboxPublishedAsync(stored.Sale, cancellationToken))
        {
            return;
        }

        foreach (var row in rows)
        {
            cache.LeftBehind(stored.Sale.Reference, row.DueAt, row.ETag);
            done.Enqueue(row);
        }
    }

    /// <summary>
    /// Publishes what the outbox still holds, then closes the sale (final, nothing pending: compared with Vipps once,
    /// due row removed) or moves its row to the next time a rule needs it. The state row's due time is written first,
    /// ETag-guarded, in one batch with the "sent" marks of what was published (so closing a sale this instance knows
    /// costs that one request, plus its share of the pass's batched row removals): a step that raced this visit keeps
    /// the sale listed (its row, or this one, stays) and the next visit decides again.
    /// </summary>
    private async Task FinishVisitAsync(string reference, IReadOnlyList<DueEntry> rows, ConcurrentQueue<DueEntry> done, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var stored = await store.LoadCachedAsync(reference, cancellationToken);
            if (stored is not null && rows.Any(row => row.DueAt != stored.DueAt))
            {
                // A row that is not the sale's current one by this instance's row: read, since another instance may
                // have moved the sale onto it, before any row is removed.
                stored = await store.LoadAsync(reference, cancellationToken);
            }

            if (stored is null)
            {
                return;
            }

            var sale = stored.Sale;
            var now = time.GetUtcNow();
            var closable = DueSchedule.IsClosable(sale);
            if (!await OutboxPublishedAsync(sale, cancellationToken))
            {
                // Leave the sale listed; the next pass tries the publish again.
                closable = false;
            }
            else if (closable && sale.AuthorizedAt is not null && stored.DueAt is not null)
            {
                if (await CheckAggregateAsync(sale, cancellationToken))
                {
                    continue; // a divergence was recorded: decide on the new row
                }
            }

            DateTimeOffset? next = closable ? null : DueSchedule.Normalize(Later(DueSchedule.Next(sale, options.Value, now), now + DueSchedule.RevisitFloor));
            if (next is { } nextDue && nextDue != stored.DueAt)
            {
                cache.DueRowWritten(reference, nextDue, await due.AddAsync(reference, nextDue, cancellationToken));
            }

            var keep = next ?? stored.DueAt;
            if (next != stored.DueAt)
            {
                var marks = cache.UnmarkedSent(reference);
                if (await store.SetDueAsync(stored, next, marks, cancellationToken) is null)
                {
                    // Changed meanwhile (or our cached row was stale): read and decide again.
                    continue;
                }

                cache.Marked(reference, marks);
                keep = next;
                if (stored.DueAt is { } old && rows.All(row => row.DueAt != old))
                {
                    // The row the sale was listed at before, not among those visited (beyond this pass's batch): it
                    // goes with the removals when this instance knows its ETag, else it waits for its own visit.
                    cache.LeftBehind(reference, old);
                }
            }

            // Every visited row but the sale's current one goes (or all, when closed), and with them the rows of the
            // sale this instance left behind before.
            foreach (var row in rows.Where(row => row.DueAt != keep))
            {
                // Also remembered as left behind: if the removal is lost, its next visit here needs no read.
                cache.LeftBehind(reference, row.DueAt, row.ETag);
                done.Enqueue(row);
            }

            foreach (var row in cache.LeftBehindRows(reference).Where(row => row.DueAt != keep && rows.All(visited => visited.DueAt != row.DueAt)))
            {
                done.Enqueue(row);
            }

            return;
        }
    }

    /// <summary>Publishes the pending outbox rows a load brought (in order; their "sent" marks ride on the visit's
    /// write), and records that every event of the sale is published when none is left.</summary>
    private async Task PublishLoadedAsync(Sale sale, IReadOnlyList<OutboxEvent> pending, CancellationToken cancellationToken)
    {
        if (_dispatcher is null)
        {
            return;
        }

        var published = pending.Count == 0 ? 0 : await _dispatcher.PublishAsync(pending, cancellationToken);
        cache.Published(sale.Reference, pending.Take(published).Select(e => e.Sequence).ToList());
        if (published == pending.Count)
        {
            cache.PublishedThroughAll(sale.Reference, sale.OutboxSequence);
        }
    }

    /// <summary>Whether every outbox event of the sale is published: known here, or published now from its rows.</summary>
    private async Task<bool> OutboxPublishedAsync(Sale sale, CancellationToken cancellationToken)
    {
        if (_dispatcher is null || sale.OutboxSequence == 0 || cache.PublishedThrough(sale.Reference) >= sale.OutboxSequence)
        {
            return true;
        }

        // Published now and marked with the visit's own write (the close or the move of the due row).
        var (published, complete) = await _dispatcher.PublishPendingAsync(sale.Reference, cancellationToken);
        cache.Published(sale.Reference, published);
        if (complete)
        {
            cache.PublishedThroughAll(sale.Reference, sale.OutboxSequence);
        }

        return complete;
    }

    private Sale Current(Sale sale) => store.CachedOrNull(sale.Reference) ?? sale;

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    /// <summary>Before forgetting a final sale that moved money, compare with Vipps' aggregate once. True: a
    /// divergence was recorded (the sale changed).</summary>
    private async Task<bool> CheckAggregateAsync(Sale sale, CancellationToken cancellationToken)
    {
        if (sale.AuthorizedAt is null)
        {
            return false;
        }

        var details = await vipps.GetPaymentAsync(sale.MerchantId, sale.Reference, cancellationToken);
        var aggregate = details.Aggregate;
        if (aggregate.CapturedAmount.Value == sale.CapturedAmount && aggregate.RefundedAmount.Value == sale.RefundedAmount
            && aggregate.CancelledAmount.Value == sale.CancelledAmount)
        {
            return false;
        }

        var detail = $"Vipps aggregate authorized {aggregate.AuthorizedAmount.Value}, captured {aggregate.CapturedAmount.Value}, cancelled {aggregate.CancelledAmount.Value}, refunded {aggregate.RefundedAmount.Value}; "
            + $"ours authorized {sale.AuthorizedAmount}, captured {sale.CapturedAmount}, cancelled {sale.CancelledAmount}, refunded {sale.RefundedAmount}";
        logger.LogWarning("Sale {Reference} diverges from Vipps: {Detail}", sale.Reference, detail);
        var result = await recorder.RecordAsync(sale.Reference, new DivergenceObserved(detail), null, cancellationToken);
        return result.Outcome == TransitionOutcome.Recorded;
    }
}
