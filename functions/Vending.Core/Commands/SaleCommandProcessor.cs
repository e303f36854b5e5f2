using Microsoft.Extensions.Logging;
using Vending.Core.Observability;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Commands;

/// <summary>
/// Runs one capture / release / cancel / refund against Vipps and records the outcome on the sale.
/// Exactly once: the operation (amount, idempotency key) is read from the sale, and one already recorded is never
/// sent again; every retry of a pending one sends the same idempotency key, so Vipps answers a repeat without moving money twice.
/// </summary>
public sealed class SaleCommandProcessor(
    ISaleStore store,
    SaleRecorder recorder,
    ISaleCommandQueue queue,
    IVippsEPaymentClient vipps,
    ILogger<SaleCommandProcessor> logger) : ISaleCommandProcessor
{
    /// <summary>Transient failures in a row before the command is given up (about 50 minutes of backoff).</summary>
    public const int MaxAttempts = 15;

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Vipps codes that mean "not now" rather than "no": 6160 order processing, 6250 cancel during the user's
    /// approval, 6280 capture failed, retry.</summary>
    private static readonly HashSet<int> RetryableCodes = [6160, 6250, 6280];

    public async Task ProcessAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        if (SaleCommand.TryParse(messageText) is not { } command)
        {
            // Retrying cannot make it readable: say so loudly and let it go.
            logger.LogError("Unreadable sale command dropped ({Length} characters)", messageText?.Length ?? 0);
            return;
        }

        using var activity = SaleTracing.StartCommand(command);

        var sale = await store.GetAsync(command.Reference, cancellationToken);
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

        ModificationResponse response;
        try
        {
            response = await CallVippsAsync(sale, operation, cancellationToken);
        }
        catch (VippsApiException exception) when (IsRetryable(exception))
        {
            await RetryLaterAsync(command, operation, exception, cancellationToken);
            return;
        }
        catch (VippsApiException exception)
        {
            await RecordFailureAsync(sale, operation, SaleService.FailureCode(exception), exception.ErrorCode, exception, cancellationToken);
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

        using var activity = SaleTracing.StartCommand(command, poison: true);
        SaleMetrics.CommandPoisoned(command.Kind);

        var result = await recorder.RecordAsync(command.Reference, new CommandPoisoned(command.OperationId), null, cancellationToken);
        logger.LogError("Sale {Reference}: command {OperationId} ({Kind}) kept failing and was poisoned; sale {State}, operator action needed",
            command.Reference, command.OperationId, command.Kind, result.Sale?.State);
    }

    internal static TimeSpan Backoff(int attempt)
    {
        var seconds = 5 * Math.Pow(2, Math.Min(attempt, 10));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxBackoff.TotalSeconds));
    }

    private Task<ModificationResponse> CallVippsAsync(Sale sale, SaleOperation operation, CancellationToken cancellationToken) => operation.Kind switch
    {
        OperationKind.Capture => vipps.CaptureAsync(sale.MerchantId, sale.Reference, new Amount(sale.Currency, operation.Amount), operation.IdempotencyKey, cancellationToken),
        OperationKind.Release => vipps.CancelAsync(sale.MerchantId, sale.Reference, cancelTransactionOnly: false, operation.IdempotencyKey, cancellationToken),
        OperationKind.Terminate => vipps.CancelAsync(sale.MerchantId, sale.Reference, cancelTransactionOnly: true, operation.IdempotencyKey, cancellationToken),
        OperationKind.Refund => vipps.RefundAsync(sale.MerchantId, sale.Reference, new Amount(sale.Currency, operation.Amount), operation.IdempotencyKey, cancellationToken),
        _ => throw new InvalidOperationException($"Unknown operation kind {operation.Kind}."),
    };

    private static bool IsRetryable(VippsApiException exception) =>
        exception.IsTransient || exception.ErrorCode is { } code && RetryableCodes.Contains(code);

    private async Task RetryLaterAsync(SaleCommand command, SaleOperation operation, VippsApiException exception, CancellationToken cancellationToken)
    {
        var attempt = command.Attempt + 1;
        if (attempt >= MaxAttempts)
        {
            var sale = await store.GetAsync(command.Reference, cancellationToken);
            await RecordFailureAsync(sale!, operation, "command_retries_exhausted", null, exception, cancellationToken);
            return;
        }

        var delay = Backoff(attempt);
        SaleMetrics.CommandRetried(command.Kind);
        logger.LogWarning(exception, "Sale {Reference}: {OperationId} failed transiently (attempt {Attempt}); again in {Delay}",
            command.Reference, operation.Id, attempt, delay);
        // A new message with the attempt count; this one completes. Same operation, so the same idempotency key.
        await queue.EnqueueAsync(command with { Attempt = attempt }, delay, cancellationToken);
    }

    private async Task RecordFailureAsync(Sale sale, SaleOperation operation, string code, int? vippsErrorCode, Exception exception, CancellationToken cancellationToken)
    {
        var result = await recorder.RecordAsync(sale.Reference, new CommandFailed(operation.Id, code, vippsErrorCode), null, cancellationToken);
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
}
