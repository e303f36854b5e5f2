using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Sales;

namespace Vending.Core.Events;

/// <summary>
/// Publishes a sale's pending outbox rows in sequence order and marks each sent. Stops at the first publish failure,
/// so a later event of a sale is never published before an earlier one; the failed row stays pending for the next
/// dispatch or sweep. Safe to run concurrently with itself: re-publishing is dropped by the topic's duplicate
/// detection (stable message id), and marking is ETag-guarded.
/// </summary>
public sealed class OutboxDispatcher : IOutboxDispatcher
{
    private readonly IPendingOutbox _outbox;
    private readonly IPaymentEventPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly ILogger<OutboxDispatcher> _logger;
    private readonly int _sweepBatchSize;

    /// <summary>How long a due row must be overdue before the sweep takes it (the reconciler runs every minute in Azure).</summary>
    public static readonly TimeSpan SweepLag = TimeSpan.FromMinutes(2);

    // Where the previous sweep stopped among the due rows, so a batch-bounded sweep still reaches every due sale over
    // a few runs. In memory only: after a restart it starts over, which is harmless.
    private string _sweepCursor = "";
    private readonly Lock _cursorLock = new();

    public OutboxDispatcher(
        IPendingOutbox outbox,
        IPaymentEventPublisher publisher,
        IOptions<PaymentEventsOptions> options,
        TimeProvider time,
        ILogger<OutboxDispatcher> logger)
    {
        _outbox = outbox;
        _publisher = publisher;
        _time = time;
        _logger = logger;
        _sweepBatchSize = options.Value.SweepBatchSize;
    }

    public async Task<int> PublishAsync(IReadOnlyList<OutboxEvent> events, CancellationToken cancellationToken)
    {
        var published = 0;
        foreach (var outboxEvent in events.OrderBy(e => e.Sequence))
        {
            try
            {
                await _publisher.PublishAsync(outboxEvent, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning(exception, "Payment event {EventId} of sale {Reference} not published; it and the {Remaining} after it stay pending",
                    outboxEvent.EventId, outboxEvent.Reference, events.Count - published - 1);
                return published;
            }

            published++;
        }

        return published;
    }

    public async Task<(IReadOnlyList<long> Published, bool Complete)> PublishPendingAsync(string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        if (!SaleReferences.TryMachineOf(reference, out var partition))
        {
            return ([], true);
        }

        var pending = await _outbox.PendingAsync(partition, reference, cancellationToken);
        var ordered = pending.Select(row => row.Event).OrderBy(e => e.Sequence).ToList();
        var published = await PublishAsync(ordered, cancellationToken);
        return (ordered.Take(published).Select(e => e.Sequence).ToList(), published == ordered.Count);
    }

    /// <summary>Returns how many events this call published and marked sent.</summary>
    public async Task<int> DispatchAsync(string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        if (!SaleReferences.TryMachineOf(reference, out var partition))
        {
            // Not one of our references: no sale, no rows.
            return 0;
        }

        var pending = await _outbox.PendingAsync(partition, reference, cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }

        // The service reads Sequence from the row, not from the RowKey's text, so order by the number itself.
        var ordered = pending.OrderBy(row => row.Event.Sequence).ToList();

        var published = 0;
        foreach (var row in ordered)
        {
            var outboxEvent = row.Event;
            try
            {
                await _publisher.PublishAsync(outboxEvent, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning(
                    exception,
                    "Payment event {EventId} of sale {Reference} not published; it and the {Remaining} after it stay pending",
                    outboxEvent.EventId, reference, ordered.Count - published - 1);
                return published;
            }

            if (!await MarkSentAsync(row, outboxEvent, cancellationToken))
            {
                // Published but not recorded: the next dispatch re-sends it (dropped as a duplicate by message id).
                // Stop here all the same; storage is failing and the next rows would hit the same wall.
                return published;
            }

            published++;
        }

        return published;
    }

    /// <summary>Dispatches the sales whose row in the due index (<c>OpenSales</c>) is overdue by <see cref="SweepLag"/>, at most
    /// <see cref="PaymentEventsOptions.SweepBatchSize"/> per call: a sale whose events were not all published after its
    /// transition is listed due soon, and an idle sweep is one query. One sale's failure does not stop the others.
    /// Returns how many events were published.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        string cursor;
        lock (_cursorLock)
        {
            cursor = _sweepCursor;
        }

        // Only rows the reconciler has left overdue: it publishes what each sale it visits still holds, so a row due
        // just now is its work, not the sweep's (sweeping it would re-publish events whose "sent" mark rides on the
        // sale's next write).
        var references = new HashSet<string>(StringComparer.Ordinal);
        var lastRowKey = "";
        var rows = 0;
        try
        {
            await foreach (var due in _outbox.OverdueAsync(cursor, _time.GetUtcNow() - SweepLag, _sweepBatchSize, cancellationToken))
            {
                references.Add(due.Reference);
                lastRowKey = due.Position;
                if (++rows == _sweepBatchSize)
                {
                    break;
                }
            }
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            _logger.LogWarning("The due index's table does not exist; nothing to sweep");
            return 0;
        }

        lock (_cursorLock)
        {
            // A short batch reached the end of what is due: the next sweep starts from the earliest again.
            _sweepCursor = rows == _sweepBatchSize ? lastRowKey : "";
        }

        var published = 0;
        foreach (var reference in references)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                published += await DispatchAsync(reference, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.LogError(exception, "Outbox sweep could not dispatch sale {Reference}", reference);
            }
        }

        if (published > 0)
        {
            _logger.LogInformation(
                "Outbox sweep published {Published} payment events over {Sales} due sales", published, references.Count);
        }

        return published;
    }

    private async Task<bool> MarkSentAsync(PendingOutboxEvent row, OutboxEvent outboxEvent, CancellationToken cancellationToken)
    {
        try
        {
            if (!await _outbox.MarkSentAsync(row, _time.GetUtcNow(), cancellationToken))
            {
                // Another dispatcher marked (or the service removed) the row since we read it: it is delivered all the same.
                _logger.LogDebug(
                    "Payment event {EventId} of sale {Reference} was already marked by another dispatcher",
                    outboxEvent.EventId, outboxEvent.Reference);
            }

            return true;
        }
        catch (RequestFailedException exception)
        {
            _logger.LogWarning(
                exception,
                "Payment event {EventId} of sale {Reference} published but not marked sent; it will be re-sent and dropped as a duplicate",
                outboxEvent.EventId, outboxEvent.Reference);
            return false;
        }
    }
}
