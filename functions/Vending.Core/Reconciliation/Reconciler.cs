using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Commands;
using Vending.Core.Observability;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Reconciliation;

/// <summary>
/// One pass over <c>OpenSales</c>: finds what webhooks did not tell (Vipps' event log), expires what Vipps left
/// CREATED past expiry, releases authorizations whose machine never reported, re-sends commands pending too long,
/// retries creates whose Vipps answer was lost, records divergences from Vipps' aggregate, and drops finished sales
/// from the list. One sale's failure does not stop the others.
/// </summary>
public sealed class Reconciler(
    IOpenSaleList openSales,
    ISaleStore store,
    SaleRecorder recorder,
    VippsEventIngest ingest,
    IVippsEPaymentClient vipps,
    IOptions<VendingOptions> options,
    IOptions<VippsOptions> vippsOptions,
    TimeProvider time,
    ILogger<Reconciler> logger) : IReconciler
{
    /// <summary>A create whose answer we never got is retried after this (the request itself may still be running).</summary>
    private static readonly TimeSpan CreateRetryAfter = TimeSpan.FromMinutes(1);

    private readonly Lock _cursorLock = new();

    /// <summary>Where the next pass starts (the last reference of the previous batch; null: from the start). Each
    /// instance walks the list on its own; a full batch moves it on, a short one wraps it to the start.</summary>
    private string? _cursor;

    public async Task<ReconcileReport> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pass = new ReconcilerPass(time.GetUtcNow(), options.Value);
        string? after;
        lock (_cursorLock)
        {
            after = _cursor;
        }

        var batchSize = options.Value.ReconcileBatchSize;
        var entries = await openSales.ListAsync(batchSize, after, cancellationToken);
        lock (_cursorLock)
        {
            _cursor = entries.Count >= batchSize ? entries[^1].Reference : null;
        }

        int changed = 0, enqueued = 0, errors = 0;
        // Sales are independent (each transition is ETag-guarded), and most of a pass is waiting on storage and
        // Vipps: a sequential pass over hundreds of open sales enforced vend deadlines minutes late under load.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.ReconcileParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(entries, parallel, async (entry, ct) =>
        {
            try
            {
                var (saleChanged, commands) = await ReconcileAsync(entry, pass, ct);
                if (saleChanged)
                {
                    Interlocked.Increment(ref changed);
                }

                Interlocked.Add(ref enqueued, commands);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref errors);
                logger.LogError(exception, "Reconciling sale {Reference} failed", entry.Reference);
            }
        });

        pass.Record();
        var report = new ReconcileReport(entries.Count, changed, enqueued, errors);
        if (changed + enqueued + errors > 0)
        {
            logger.LogInformation("Reconciler: {Examined} open sales, {Changed} changed, {Enqueued} commands re-sent, {Errors} errors",
                report.Examined, report.Changed, report.CommandsEnqueued, report.Errors);
        }

        return report;
    }

    private async Task<(bool Changed, int Commands)> ReconcileAsync(OpenSaleEntry entry, ReconcilerPass pass, CancellationToken cancellationToken)
    {
        var sale = await store.GetAsync(entry.Reference, cancellationToken);
        if (sale is null)
        {
            // Listed at create but its row never written (the create stopped): a retry by the machine writes both again.
            await openSales.RemoveAsync(entry, cancellationToken);
            return (false, 0);
        }

        pass.Observe(sale);
        var now = time.GetUtcNow();
        var before = sale.State;
        var commands = 0;

        if (sale.State == SaleState.Created && !sale.PaymentCreated && now - sale.CreatedAt >= CreateRetryAfter)
        {
            await RetryCreateAsync(sale, cancellationToken);
        }
        else if (sale.State == SaleState.Created && sale.PaymentCreated)
        {
            await ingest.PollAsync(sale, cancellationToken);
            sale = await store.GetAsync(sale.Reference, cancellationToken) ?? sale;
            if (sale.State == SaleState.Created && now >= sale.ExpiresAt + TimeSpan.FromSeconds(options.Value.ExpiryGraceSeconds))
            {
                var details = await vipps.GetPaymentAsync(sale.MerchantId, sale.Reference, cancellationToken);
                if (details.State == PaymentStates.Created)
                {
                    await recorder.RecordAsync(sale.Reference, new PaymentExpiryPassed(), null, cancellationToken);
                }
            }
        }

        sale = await store.GetAsync(sale.Reference, cancellationToken) ?? sale;
        if ((sale.State == SaleState.Authorized || SaleTransitions.AwaitsVendAfterCapture(sale)) && sale.Vend is null && sale.AuthorizedAt is { } authorizedAt
            && now - authorizedAt >= TimeSpan.FromSeconds(options.Value.VendReportDeadlineSeconds))
        {
            logger.LogWarning("Sale {Reference}: no vend report {Seconds} s after authorization; releasing (or refunding what was captured at authorization)",
                sale.Reference, options.Value.VendReportDeadlineSeconds);
            var result = await recorder.RecordAsync(sale.Reference, new VendDeadlinePassed(), null, cancellationToken);
            sale = result.Sale ?? sale;
        }

        var stale = TimeSpan.FromSeconds(options.Value.CommandStaleSeconds);
        // Only chains that are overdue: a backoff recorded its next attempt, and re-sending before then would run a
        // second chain calling Vipps with the same key at the same time.
        foreach (var operation in sale.Operations.Where(operation => operation.Status == OperationStatus.Pending && now - operation.DueAt >= stale))
        {
            var result = await recorder.RecordAsync(sale.Reference, new CommandReenqueued(operation.Id), null, cancellationToken);
            if (result is { Outcome: TransitionOutcome.Recorded, Decision: { } decision })
            {
                commands += decision.Commands.Count;
                logger.LogWarning("Sale {Reference}: {OperationId} pending since {IssuedAt}; sent again", sale.Reference, operation.Id, operation.IssuedAt);
            }
        }

        sale = await store.GetAsync(sale.Reference, cancellationToken) ?? sale;
        if (sale.IsFinal && !sale.HasPendingOperations && !SaleTransitions.AwaitsVendAfterCapture(sale))
        {
            await CheckAggregateAsync(sale, cancellationToken);
            if (!await store.HasUnsentOutboxAsync(sale.Reference, cancellationToken))
            {
                await openSales.RemoveAsync(entry, cancellationToken);
            }
        }

        return (sale.State != before, commands);
    }

    private async Task RetryCreateAsync(Sale sale, CancellationToken cancellationToken)
    {
        if (!vippsOptions.Value.Merchants.TryGetValue(sale.MerchantId, out var merchant))
        {
            logger.LogError("Sale {Reference}: merchant {MerchantId} is not configured", sale.Reference, sale.MerchantId);
            return;
        }

        try
        {
            var response = await vipps.CreatePaymentAsync(sale.MerchantId, VippsPaymentRequests.For(sale, merchant),
                VippsPaymentRequests.CreateIdempotencyKey(sale.Reference), cancellationToken);
            if (!string.IsNullOrEmpty(response.RedirectUrl))
            {
                var kind = merchant.TargetUrlQrApproved ? SaleQrSource.TargetUrl : SaleQrSource.Image;
                await recorder.RecordAsync(sale.Reference, new PaymentCreateConfirmed(new SaleQrSource(kind, response.RedirectUrl)), null, cancellationToken);
            }
        }
        catch (VippsApiException exception) when (!exception.IsTransient)
        {
            await recorder.RecordAsync(sale.Reference, new PaymentCreateFailed(SaleService.FailureCode(exception)), null, cancellationToken);
        }
    }

    /// <summary>Before forgetting a final sale that moved money, compare with Vipps' aggregate once.</summary>
    private async Task CheckAggregateAsync(Sale sale, CancellationToken cancellationToken)
    {
        if (sale.AuthorizedAt is null)
        {
            return;
        }

        var details = await vipps.GetPaymentAsync(sale.MerchantId, sale.Reference, cancellationToken);
        var aggregate = details.Aggregate;
        if (aggregate.CapturedAmount.Value == sale.CapturedAmount && aggregate.RefundedAmount.Value == sale.RefundedAmount
            && aggregate.CancelledAmount.Value == sale.CancelledAmount)
        {
            return;
        }

        var detail = $"Vipps aggregate authorized {aggregate.AuthorizedAmount.Value}, captured {aggregate.CapturedAmount.Value}, cancelled {aggregate.CancelledAmount.Value}, refunded {aggregate.RefundedAmount.Value}; "
            + $"ours authorized {sale.AuthorizedAmount}, captured {sale.CapturedAmount}, cancelled {sale.CancelledAmount}, refunded {sale.RefundedAmount}";
        logger.LogWarning("Sale {Reference} diverges from Vipps: {Detail}", sale.Reference, detail);
        await recorder.RecordAsync(sale.Reference, new DivergenceObserved(detail), null, cancellationToken);
    }
}
