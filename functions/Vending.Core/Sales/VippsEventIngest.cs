using Microsoft.Extensions.Logging;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Sales;

/// <summary>
/// Turns Vipps payment events (webhook bodies, or entries of the event log found by polling) into sale events. Both
/// paths use the same dedupe row (<c>w-{name}-{pspReference}</c>), so an event seen by webhook and by poll counts once.
/// </summary>
public sealed class VippsEventIngest(SaleRecorder recorder, ISaleStore store, IVippsEPaymentClient vipps, TimeProvider time, ILogger<VippsEventIngest> logger)
{
    public static VippsEventKind? KindOf(string? name) => name?.ToUpperInvariant() switch
    {
        PaymentEventNames.Created => VippsEventKind.Created,
        PaymentEventNames.Authorized => VippsEventKind.Authorized,
        PaymentEventNames.Aborted => VippsEventKind.Aborted,
        PaymentEventNames.Expired => VippsEventKind.Expired,
        PaymentEventNames.Terminated => VippsEventKind.Terminated,
        PaymentEventNames.Cancelled => VippsEventKind.Cancelled,
        PaymentEventNames.Captured => VippsEventKind.Captured,
        PaymentEventNames.Refunded => VippsEventKind.Refunded,
        _ => null,
    };

    public async Task<TransitionResult?> RecordAsync(PaymentEvent paymentEvent, CancellationToken cancellationToken)
    {
        if (KindOf(paymentEvent.Name) is not { } kind)
        {
            logger.LogWarning("Sale {Reference}: unknown Vipps event name {EventName} ignored", paymentEvent.Reference, paymentEvent.Name);
            return null;
        }

        if (!paymentEvent.Success)
        {
            // A failed operation moved no money; our own command result tells what we need.
            logger.LogInformation("Sale {Reference}: unsuccessful {EventName} event ignored", paymentEvent.Reference, paymentEvent.Name);
            return null;
        }

        var observed = new VippsEventObserved(kind, paymentEvent.Amount.Value, paymentEvent.PspReference, paymentEvent.IdempotencyKey, paymentEvent.Timestamp);
        var cached = store.CachedOrNull(paymentEvent.Reference);
        if (IsNoOp(observed, cached))
        {
            return new TransitionResult(TransitionOutcome.Ignored, cached, null);
        }

        return await recorder.RecordAsync(paymentEvent.Reference, observed,
            SaleDedupeKeys.VippsEvent(kind.ToString().ToUpperInvariant(), paymentEvent.PspReference), cancellationToken);
    }

    /// <summary>
    /// Events known to change nothing, told without touching storage: <c>CREATED</c> (our own create already says the
    /// payment exists), and a money event carrying the idempotency key of one of our operations this instance saw
    /// succeed (an operation once succeeded stays so) that the state machine ignores on that row. Anything else
    /// is decided on the stored row.
    /// </summary>
    private bool IsNoOp(VippsEventObserved observed, Sale? cached)
    {
        if (observed.Kind == VippsEventKind.Created)
        {
            return true;
        }

        if (cached is null || observed.IdempotencyKey is not { } key
            || !cached.Operations.Any(operation => operation.IdempotencyKey == key && operation.Status == OperationStatus.Succeeded))
        {
            return false;
        }

        return SaleTransitions.Decide(cached, observed, time.GetUtcNow()).Kind == DecisionKind.Ignore;
    }

    /// <summary>Reads the sale's event log at Vipps and records what we missed. Returns how many events changed something.</summary>
    public async Task<int> PollAsync(Sale sale, CancellationToken cancellationToken)
    {
        var events = await vipps.GetPaymentEventsAsync(sale.MerchantId, sale.Reference, cancellationToken);
        var recorded = 0;
        foreach (var paymentEvent in events.OrderBy(e => e.Timestamp))
        {
            if (await RecordAsync(paymentEvent, cancellationToken) is { Outcome: TransitionOutcome.Recorded })
            {
                recorded++;
            }
        }

        return recorded;
    }

    /// <summary>Like <see cref="PollAsync"/>, for callers where a poll is an optimisation (a long poll): Vipps being
    /// unreachable is logged, not thrown.</summary>
    public async Task<int> TryPollAsync(Sale sale, CancellationToken cancellationToken)
    {
        try
        {
            return await PollAsync(sale, cancellationToken);
        }
        catch (VippsApiException exception)
        {
            logger.LogWarning(exception, "Sale {Reference}: polling Vipps failed ({Status})", sale.Reference, (int?)exception.StatusCode);
            return 0;
        }
    }
}
