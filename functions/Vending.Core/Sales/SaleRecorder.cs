using Microsoft.Extensions.Logging;
using Vending.Core.Commands;
using Vending.Core.Events;
using Vending.Core.Observability;
using Vending.Core.Storage;

namespace Vending.Core.Sales;

/// <summary>
/// Records an event on a sale (<see cref="ISaleStore.ApplyAsync"/>: decide + one transaction) and then carries out
/// what the decision asks: enqueue its commands, keep the sale on the open list, wake long polls, publish its outbox
/// rows. Those steps come after the commit and are each safe to lose: the reconciler re-sends commands pending too long
/// and the outbox sweep publishes leftovers.
/// </summary>
public sealed class SaleRecorder(
    ISaleStore store,
    ISaleCommandQueue commands,
    IOpenSaleList openSales,
    SaleChangeNotifier notifier,
    IEnumerable<IOutboxDispatcher> dispatchers,
    ILogger<SaleRecorder> logger)
{
    private readonly IOutboxDispatcher? _dispatcher = dispatchers.FirstOrDefault();

    public async Task<TransitionResult> RecordAsync(string reference, SaleEvent saleEvent, string? dedupeRowKey, CancellationToken cancellationToken)
    {
        var result = await store.ApplyAsync(reference, saleEvent, dedupeRowKey, cancellationToken);
        if (result is not { Outcome: TransitionOutcome.Recorded, Decision: { } decision, Sale: { } sale })
        {
            return result;
        }

        SaleMetrics.Recorded(sale, saleEvent, decision);
        if (decision.StateChanged)
        {
            logger.LogInformation("Sale {Reference}: {Event} → {State}", reference, decision.History!.Type, sale.State);
        }

        if (decision.Commands.Count > 0 || decision.Outbox.Count > 0)
        {
            await KeepOpenAsync(reference, cancellationToken);
        }

        foreach (var operation in decision.Commands)
        {
            // An operation issued for later (a "not now" answer re-issued under a new key) waits until then.
            var delay = operation.NextAttemptAt is { } next && next > operation.IssuedAt ? next - operation.IssuedAt : TimeSpan.Zero;
            await EnqueueAsync(SaleCommand.For(reference, operation), delay, cancellationToken);
        }

        notifier.Notify(reference);
        if (decision.Outbox.Count > 0 && _dispatcher is not null)
        {
            try
            {
                await _dispatcher.DispatchAsync(reference, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Sale {Reference}: outbox dispatch failed; the sweep publishes it later", reference);
            }
        }

        return result;
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

    private async Task KeepOpenAsync(string reference, CancellationToken cancellationToken)
    {
        try
        {
            await openSales.AddAsync(reference, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Sale {Reference}: not added to the open-sales list", reference);
        }
    }
}
