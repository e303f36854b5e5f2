using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Vending.Core.Events;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;

namespace VendingFunctions.Timers;

/// <summary>Converges stuck sales by asking Vipps (webhooks are never trusted to arrive), then publishes any
/// outbox events a crash or an outage left behind.</summary>
public sealed class ReconcilerFunction(IReconciler reconciler, ILogger<ReconcilerFunction> logger, IOutboxDispatcher? outbox = null)
{
    [Function("Reconciler")]
    public async Task Run([TimerTrigger("%Reconciler:Schedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var report = await reconciler.RunOnceAsync(cancellationToken);
        var published = outbox is null ? 0 : await outbox.SweepAsync(cancellationToken);
        logger.LogInformation(
            "Reconciler examined {Examined} sales, changed {Changed}, enqueued {CommandsEnqueued} commands, {Errors} errors; swept {Published} events",
            report.Examined, report.Changed, report.CommandsEnqueued, report.Errors, published);
    }
}
