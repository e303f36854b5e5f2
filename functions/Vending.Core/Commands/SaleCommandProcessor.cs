using System.Net;
using Microsoft.Extensions.Logging;
using Vending.Core.Observability;
using Microsoft.Extensions.Options;
using Vending.Core.Sales;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Commands;

/// <summary>
/// Runs one capture / release / cancel / refund against Vipps and records the outcome on the sale.
/// Exactly once: the operation (amount, idempotency key) is read from the sale, and one already recorded is never
/// sent again; every retry of a pending one sends the same idempotency key, so Vipps answers a repeat without moving money twice.
/// No unclear answer is final: transient failures and refused credentials are retried for
/// <see cref="VendingOptions.CommandRetryWindowSeconds"/>, and before any failure is recorded Vipps is asked (the
/// payment's event log and aggregate) whether the operation happened after all.
/// </summary>
public sealed class SaleCommandProcessor(
    ISaleStore store,
    SaleRecorder recorder,
    ISaleCommandQueue queue,
    IVippsEPaymentClient vipps,
    VippsEventIngest ingest,
    IOptions<VendingOptions> options,
    TimeProvider time,
    ILogger<SaleCommandProcessor> logger) : ISaleCommandProcessor
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>The cap while the operation is younger than <see cref="EarlyPhase"/>: after a short outage the sale
    /// (and its machine, which has one open sale at a time) moves on within a minute, not five.</summary>
    public static readonly TimeSpan EarlyMaxBackoff = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan EarlyPhase = TimeSpan.FromHours(1);

    /// <summary>Vipps codes that mean "not now" rather than "no": 6160 order processing, 6250 cancel during the user's
    /// approval, 6280 capture failed, retry. They are 4xx answers, and a 4xx stays 4xx for its key, so they are
    /// retried under a new operation (new key), never the same one.</summary>
    private static readonly HashSet<int> NotNowCodes = [6160, 6250, 6280];

    public async Task ProcessAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        if (SaleCommand.TryParse(messageText) is not { } command)
        {
            // Retrying cannot make it readable: say so loudly and let it go.
            logger.LogError("Unreadable sale command dropped ({Length} characters)", messageText?.Length ?? 0);
            return;
        }

        using var activity = SaleCommandTracing.StartCommand(command);

        // This instance's row when it has one (it wrote the operation, usually): a row another instance moved on
        // since can at worst send the same operation again under its same key, which Vipps answers without moving
        // money twice, and its result is then decided on the fresh row.
        var sale = (await store.LoadCachedAsync(command.Reference, cancellationToken))?.Sale;
        if (sale?.FindOperation(command.OperationId) is not { Status: OperationStatus.Pending } known || command.Attempt < known.Attempt)
        {
            // A "no" to sending (unknown, done, superseded) is never answered from a cached row.
            sale = await store.GetAsync(command.Reference, cancellationToken);
        }

        if (sale?.FindOperation(command.OperationId) is not { } operation)
        {
            logger.LogError("Sale {Reference}: command {OperationId} names no known sale or operation; dropped", command.Reference, command.OperationId);
            return;
        }

        if (operation.Status != OperationStatus.Pending)
        {
            logger.LogInformation("Sale {Reference}: {OperationId} already {Status}; not sent again", command.Reference, operation.Id, operation.Status);
            return;
        }

        if (command.Attempt < operation.Attempt)
        {
            // One chain per operation: a newer message (backoff recorded, or re-sent by the reconciler) owns it.
            logger.LogInformation("Sale {Reference}: {OperationId} message attempt {Attempt} superseded by attempt {Current}; dropped",
                command.Reference, operation.Id, command.Attempt, operation.Attempt);
            return;
        }

        ModificationResponse response;
        try
        {
            response = await CallVippsAsync(sale, operation, cancellationToken);
        }
        catch (VippsApiException exception) when (exception.ErrorCode is { } code && NotNowCodes.Contains(code))
        {
            await NotNowAsync(sale, operation, command, exception, cancellationToken);
            return;
        }
        catch (VippsApiException exception) when (IsRetryable(exception))
        {
            await RetryLaterAsync(sale, operation, command, exception, cancellationToken);
            return;
        }
        catch (VippsApiException exception)
        {
            await ConcludeFailureAsync(sale, operation, command, SaleService.FailureCode(exception), exception.ErrorCode, exception, cancellationToken);
            return;
        }

        var aggregate = response.Aggregate is { } a
            ? new PaymentAggregate(a.AuthorizedAmount.Value, a.CapturedAmount.Value, a.CancelledAmount.Value, a.RefundedAmount.Value)
            : null;
        var result = await recorder.RecordAsync(sale.Reference, new CommandSucceeded(operation.Id, aggregate), null, cancellationToken);
        logger.LogInformation("Sale {Reference}: {OperationId} {Kind} {Amount} done; sale {State}",
            sale.Reference, operation.Id, operation.Kind, operation.Amount, result.Sale?.State);
    }

    public async Task ProcessPoisonAsync(string messageText, CancellationToken cancellationToken)
    {
        if (SaleCommand.TryParse(messageText) is not { } command)
        {
            logger.LogError("Unreadable sale command in the poison queue ({Length} characters)", messageText?.Length ?? 0);
            return;
        }

        using var activity = SaleCommandTracing.StartCommand(command, poison: true);
        SaleMetrics.CommandPoisoned(command.Kind);
        var sale = await store.GetAsync(command.Reference, cancellationToken);
        if (sale?.FindOperation(command.OperationId) is not { Status: OperationStatus.Pending } operation)
        {
            logger.LogWarning("Sale {Reference}: poisoned command {OperationId} is no longer pending; nothing to do", command.Reference, command.OperationId);
            return;
        }

        if (await FoundAtVippsAsync(sale, operation, cancellationToken) is not false)
        {
            // Done at Vipps (recorded as such), or Vipps could not be asked: not a failure (the reconciler re-sends it when due).
            return;
        }

        var result = await recorder.RecordAsync(command.Reference, new CommandPoisoned(command.OperationId), null, cancellationToken);
        logger.LogError("Sale {Reference}: command {OperationId} ({Kind}) kept failing and was poisoned; sale {State}, operator action needed",
            command.Reference, command.OperationId, command.Kind, result.Sale?.State);
    }

    /// <summary>The delay before attempt <paramref name="attempt"/>: the base doubled per attempt, at most <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan baseDelay) => Backoff(attempt, baseDelay, MaxBackoff);

    public static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan cap)
    {
        var milliseconds = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Math.Max(attempt - 1, 0), 16));
        return TimeSpan.FromMilliseconds(Math.Min(milliseconds, cap.TotalMilliseconds));
    }

    /// <summary>The delay before <paramref name="attempt"/> of <paramref name="operation"/>: capped at a minute in its
    /// first hour, five minutes after that (fewer calls and history rows over a window of days).</summary>
    internal TimeSpan Backoff(int attempt, SaleOperation operation) => Backoff(attempt,
        TimeSpan.FromMilliseconds(options.Value.CommandRetryBaseMilliseconds),
        time.GetUtcNow() - operation.IssuedAt < EarlyPhase ? EarlyMaxBackoff : MaxBackoff);

    /// <summary>Until when an unclear failure of <paramref name="operation"/> is retried rather than concluded.</summary>
    public DateTimeOffset RetryDeadline(Sale sale, SaleOperation operation)
    {
        var window = TimeSpan.FromSeconds(options.Value.CommandRetryWindowSeconds);
        // A capture is possible as long as the reservation is capturable, which counts from the authorization.
        var from = operation.Kind == OperationKind.Capture && sale.AuthorizedAt is { } authorizedAt ? authorizedAt : operation.IssuedAt;
        return from + window;
    }

    private Task<ModificationResponse> CallVippsAsync(Sale sale, SaleOperation operation, CancellationToken cancellationToken) => operation.Kind switch
    {
        OperationKind.Capture => vipps.CaptureAsync(sale.MerchantId, sale.Reference, new Amount(sale.Currency, operation.Amount), operation.IdempotencyKey, cancellationToken),
        OperationKind.Release => vipps.CancelAsync(sale.MerchantId, sale.Reference, cancelTransactionOnly: false, operation.IdempotencyKey, cancellationToken),
        OperationKind.Terminate => vipps.CancelAsync(sale.MerchantId, sale.Reference, cancelTransactionOnly: true, operation.IdempotencyKey, cancellationToken),
        OperationKind.Refund => vipps.RefundAsync(sale.MerchantId, sale.Reference, new Amount(sale.Currency, operation.Amount), operation.IdempotencyKey, cancellationToken),
        _ => throw new InvalidOperationException($"Unknown operation kind {operation.Kind}."),
    };

    /// <summary>Transient, or credentials refused (a rotated subscription key, an outage of the token service): not "no".
    /// A 409 for our key cannot be "same key, different body" (an operation's amount and key are fixed together), so
    /// it means the key's first request is still in progress at Vipps: not an answer yet either.
    private static bool IsRetryable(VippsApiException exception) =>
        exception.IsTransient || exception.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.Conflict;

    private async Task RetryLaterAsync(Sale sale, SaleOperation operation, SaleCommand command, VippsApiException exception, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now >= RetryDeadline(sale, operation))
        {
            await ConcludeFailureAsync(sale, operation, command, "command_retries_exhausted", null, exception, cancellationToken);
            return;
        }

        await DeferAsync(sale, operation, command, SaleService.FailureCode(exception), exception, cancellationToken, RetryDeadline(sale, operation));
    }

    /// <summary>Records the next attempt on the operation first, then enqueues it: the reconciler sees the chain is
    /// alive until that time, and a chain that lost the race (another chain moved the attempt on) stops here.</summary>
    private async Task DeferAsync(Sale sale, SaleOperation operation, SaleCommand command, string reason, VippsApiException? exception,
        CancellationToken cancellationToken, DateTimeOffset? notAfter = null)
    {
        // From this message's attempt: if the reconciler started a newer chain meanwhile, the deferral is refused and
        // this chain stops (taking the operation's newer number would let the old chain take over).
        var attempt = command.Attempt + 1;
        var now = time.GetUtcNow();
        var delay = Backoff(attempt, operation);
        if (notAfter is { } deadline && now + delay > deadline)
        {
            // The last attempt runs when the window closes, so the conclusion (ask Vipps, then release) is not late.
            delay = deadline > now ? deadline - now : TimeSpan.Zero;
        }

        var result = await recorder.RecordAsync(sale.Reference, new CommandDeferred(operation.Id, attempt, now + delay, reason, exception?.TraceId), null, cancellationToken);
        if (result.Outcome != TransitionOutcome.Recorded)
        {
            logger.LogInformation("Sale {Reference}: {OperationId} moved on meanwhile; this chain stops", sale.Reference, operation.Id);
            return;
        }

        SaleMetrics.CommandRetried(command.Kind);
        logger.LogWarning(exception, "Sale {Reference}: {OperationId} not done ({Reason}, attempt {Attempt}); again in {Delay}",
            sale.Reference, operation.Id, reason, attempt, delay);
        await queue.EnqueueAsync(command with { Attempt = attempt }, delay, cancellationToken);
    }

    private async Task NotNowAsync(Sale sale, SaleOperation operation, SaleCommand command, VippsApiException exception, CancellationToken cancellationToken)
    {
        var next = time.GetUtcNow() + Backoff(command.Attempt + 1, operation);
        var result = await recorder.RecordAsync(sale.Reference, new CommandNotNow(operation.Id, SaleService.FailureCode(exception), next, exception.TraceId), null, cancellationToken);
        logger.LogWarning(exception, "Sale {Reference}: {OperationId} answered {Code} (not now); issued again under a new key; sale {State}",
            sale.Reference, operation.Id, exception.ErrorCode, result.Sale?.State);
    }

    /// <summary>Before a failure is recorded, Vipps is asked whether the operation happened: an unclear answer
    /// (a lost response, then a refused retry) must not leave money moved at Vipps and "failed" in our books.</summary>
    private async Task ConcludeFailureAsync(Sale sale, SaleOperation operation, SaleCommand command, string code, int? vippsErrorCode, VippsApiException exception, CancellationToken cancellationToken)
    {
        switch (await FoundAtVippsAsync(sale, operation, cancellationToken))
        {
            case true:
                return;
            case null:
                // Vipps cannot tell us now: nothing is concluded; try again later.
                await DeferAsync(sale, operation, command, "vipps_unreadable", exception, cancellationToken);
                return;
        }

        var result = await recorder.RecordAsync(sale.Reference, new CommandFailed(operation.Id, code, vippsErrorCode, exception.TraceId), null, cancellationToken);
        if (result.Sale?.State == SaleState.Failed)
        {
            logger.LogError(exception, "Sale {Reference}: {OperationId} {Kind} refused permanently ({Code}); sale Failed, operator action needed",
                sale.Reference, operation.Id, operation.Kind, code);
        }
        else
        {
            logger.LogWarning(exception, "Sale {Reference}: {OperationId} {Kind} refused ({Code}); sale {State}",
                sale.Reference, operation.Id, operation.Kind, code, result.Sale?.State);
        }
    }

    /// <summary>True: Vipps did the operation (now recorded as done). False: it did not. Null: Vipps could not be read.
    /// Matches the event log by our idempotency key first, then the payment's aggregate.</summary>
    private async Task<bool?> FoundAtVippsAsync(Sale sale, SaleOperation operation, CancellationToken cancellationToken)
    {
        try
        {
            var events = await vipps.GetPaymentEventsAsync(sale.MerchantId, sale.Reference, cancellationToken) ?? [];
            if (events.FirstOrDefault(e => e.Success && e.IdempotencyKey == operation.IdempotencyKey) is { } ours)
            {
                if (await ingest.RecordAsync(ours, cancellationToken) is not { Outcome: TransitionOutcome.Recorded })
                {
                    // The event was seen before (its dedupe row exists) without completing this operation: record it directly.
                    await recorder.RecordAsync(sale.Reference, new CommandSucceeded(operation.Id, null), null, cancellationToken);
                }

                logger.LogWarning("Sale {Reference}: {OperationId} looked failed but Vipps' event log shows {EventName} with our key; recorded as done",
                    sale.Reference, operation.Id, ours.Name);
                return true;
            }

            if (await vipps.GetPaymentAsync(sale.MerchantId, sale.Reference, cancellationToken) is not { } details)
            {
                return false;
            }

            var aggregate = details.Aggregate;
            var done = operation.Kind switch
            {
                OperationKind.Capture => aggregate.CapturedAmount.Value >= sale.CapturedAmount + operation.Amount,
                OperationKind.Refund => aggregate.RefundedAmount.Value >= sale.RefundedAmount + operation.Amount,
                OperationKind.Release => aggregate.CancelledAmount.Value > 0
                    && aggregate.AuthorizedAmount.Value - aggregate.CapturedAmount.Value - aggregate.CancelledAmount.Value <= 0,
                OperationKind.Terminate => details.State == PaymentStates.Terminated,
                _ => false,
            };
            if (!done)
            {
                return false;
            }

            var found = new PaymentAggregate(aggregate.AuthorizedAmount.Value, aggregate.CapturedAmount.Value, aggregate.CancelledAmount.Value, aggregate.RefundedAmount.Value);
            await recorder.RecordAsync(sale.Reference, new CommandSucceeded(operation.Id, found), null, cancellationToken);
            logger.LogWarning("Sale {Reference}: {OperationId} looked failed but Vipps' aggregate shows it done; recorded as done", sale.Reference, operation.Id);
            return true;
        }
        catch (VippsApiException exception)
        {
            logger.LogWarning(exception, "Sale {Reference}: could not ask Vipps about {OperationId} ({Status})", sale.Reference, operation.Id, (int?)exception.StatusCode);
            return null;
        }
    }
}
