using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Machines;
using Vending.Core.Observability;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Sales;

/// <summary>The sale's application service: validation and Vipps calls at the edge, every change through
/// <see cref="SaleRecorder"/> (the pure state machine plus one storage transaction).</summary>
public sealed partial class SaleService(
    ISaleStore store,
    IUnmatchedWebhookLog unmatchedWebhooks,
    SaleRecorder recorder,
    PaymentCreation payments,
    VippsEventIngest ingest,
    SaleChangeNotifier notifier,
    SaleViews views,
    IQrImageFetcher images,
    IOptions<VippsOptions> vippsOptions,
    TimeProvider time,
    ILogger<SaleService> logger) : ISaleService, ISaleOperatorService
{
    /// <summary>Vipps' own expiry for a one-time QR payment: the default of <c>Vipps:PaymentExpirySeconds</c>.</summary>
    public static readonly TimeSpan PaymentLifetime = TimeSpan.FromMinutes(10);

    /// <summary>Vipps' polling guidance: poll from 5 s after create, at most every 2 s.</summary>
    public static readonly TimeSpan PollAfter = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often a long poll re-reads storage for changes made by other instances.</summary>
    public static readonly TimeSpan StorageRecheck = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastPoll = new(StringComparer.Ordinal);

    public async Task<CreateSaleResult> CreateAsync(Machine machine, CreateSaleRequest request, CancellationToken cancellationToken)
    {
        using var activity = SaleTracing.StartCreate(machine);
        if (!machine.Enabled)
        {
            throw new SaleException(RefusalKind.NotPermitted, "machine_disabled", "This machine is disabled.");
        }

        CreateSaleValidator.ValidateMachineSaleId(request.MachineSaleId);
        // No lookup of the machine sale id first: the create's transaction tells a replay by its claim row. Only a body
        // that would be refused is looked up, since a replay is answered whatever its body says.
        ValidatedSale validated;
        try
        {
            validated = CreateSaleValidator.Validate(machine, request);
        }
        catch (SaleException)
        {
            if (await store.FindByMachineSaleIdAsync(machine.MachineId, request.MachineSaleId, cancellationToken) is { } existing)
            {
                return new CreateSaleResult(await ReplayAsync(existing, cancellationToken), Created: false);
            }

            throw;
        }

        _ = Merchant(machine.MerchantId);
        var creation = await recorder.CreateAsync(
            NewSale(machine, request.MachineSaleId, VippsPaymentRequests.NewReference(machine.MachineId), validated), cancellationToken);
        switch (creation.Outcome)
        {
            case CreationOutcome.Replay:
                return new CreateSaleResult(await ReplayAsync(creation.Reference, cancellationToken), Created: false);
            case CreationOutcome.OpenSaleExists:
                throw new SaleException(RefusalKind.Conflict, "open_sale_exists",
                    $"Machine {machine.MachineId} has an open sale ({creation.OpenMachineSaleId}); finish or cancel it first.");
        }

        var sale = creation.Stored!.Sale;
        SaleMetrics.SaleCreated(sale);
        logger.LogInformation("Sale {Reference} created for machine {MachineId}: {Amount} {Currency}", sale.Reference, machine.MachineId, sale.Amount, sale.Currency);
        return new CreateSaleResult(await CreatePaymentAsync(sale, cancellationToken), Created: true);
    }

    public async Task<SaleView?> GetAsync(string machineId, string reference, CancellationToken cancellationToken) =>
        await OwnedAsync(machineId, reference, cancellationToken) is { } sale ? SaleViews.ToView(sale) : null;

    /// <summary>
    /// Answers as soon as the sale leaves <paramref name="knownState"/>: woken at once by a change committed in this
    /// instance (the cached row that commit wrote), by a storage re-read every <see cref="StorageRecheck"/> for changes
    /// made elsewhere. The Vipps event-log poll (a lost webhook) runs beside the wait, never in front of it: a slow
    /// or failing Vipps call cannot delay an answer a webhook already made possible.
    /// </summary>
    public async Task<SaleView?> WaitForChangeAsync(string machineId, string reference, SaleState knownState, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + (maxWait < TimeSpan.Zero ? TimeSpan.Zero : maxWait > MaxWait ? MaxWait : maxWait);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task poll = Task.CompletedTask;
        var changed = notifier.NextChangeAsync(reference);
        // A cached row in the state the machine knows saves the first read: a change committed here wakes the wait,
        // one made elsewhere is seen by the re-read within StorageRecheck. Any other cached state is read, since the
        // machine may know a newer one than this instance.
        var sale = maxWait >= StorageRecheck && store.CachedOrNull(reference) is { } known && known.MachineId == machineId && known.State == knownState
            ? known
            : await OwnedFreshAsync(machineId, reference, cancellationToken);
        var rereadAt = time.GetUtcNow() + StorageRecheck;
        DateTimeOffset? wokeForPollAt = null;
        try
        {
            while (true)
            {
                var now = time.GetUtcNow();
                if (sale is null || sale.State != knownState || now >= deadline)
                {
                    return sale is null ? null : SaleViews.ToView(sale);
                }

                if (poll.IsCompleted && ShouldPollVipps(sale, now))
                {
                    // What it records wakes this wait through the notifier, like a webhook would.
                    poll = PollBesideAsync(sale, stop.Token);
                }

                // A poll moment this wait already woke for is not woken for again (a clock that did not move on).
                var pollDue = poll.IsCompleted && NextVippsPollAt(sale) is { } due && due != wokeForPollAt ? due : (DateTimeOffset?)null;
                var (pause, forPoll) = WaitPause(now, deadline, rereadAt, pollDue);
                wokeForPollAt = forPoll ? pollDue : wokeForPollAt;
                var woke = await Task.WhenAny(changed, Task.Delay(pause, time, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                if (woke == changed)
                {
                    changed = notifier.NextChangeAsync(reference);
                    // The row the commit here just wrote (ETag-guarded, so the newest there is): no read.
                    sale = store.CachedOrNull(reference) is { } cached && cached.MachineId == machineId
                        ? cached
                        : await OwnedFreshAsync(machineId, reference, cancellationToken);
                }
                else if (!forPoll)
                {
                    changed = notifier.NextChangeAsync(reference);
                    sale = await OwnedFreshAsync(machineId, reference, cancellationToken);
                    rereadAt = Later(time.GetUtcNow(), now) + StorageRecheck;
                }

                // Otherwise the Vipps poll fell due (or the deadline came): the loop starts it (or answers), no read.
            }
        }
        finally
        {
            notifier.Forget(reference, changed);
            _lastPoll.TryRemove(reference, out _);
            await stop.CancelAsync();
        }
    }

    private async Task PollBesideAsync(Sale sale, CancellationToken cancellationToken)
    {
        try
        {
            await ingest.TryPollAsync(sale, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException || exception is Azure.RequestFailedException)
        {
            // The wait ended first, or storage failed under the poll: the next wait (or the reconciler) looks again.
            logger.LogDebug(exception, "Sale {Reference}: poll beside the long poll stopped", sale.Reference);
        }
    }

    public async Task<SaleView> ReportVendAsync(string machineId, string reference, VendReport report, CancellationToken cancellationToken)
    {
        if (report is null || !Enum.IsDefined(report.Outcome))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_vend_outcome", "Outcome must be delivered, failed or partial.", "outcome");
        }

        using var activity = SaleTracing.StartMachineEvent("vend", machineId, reference);
        try
        {
            return await MachineEventAsync(machineId, reference, new VendReported(report), cancellationToken);
        }
        catch (SaleException refused) when (refused.Code is "vend_report_too_late" or "sale_closed")
        {
            // The machine still hears 409, but goods that left it after the money was released are kept on record.
            var late = await recorder.RecordAsync(reference, new LateVendReported(report), null, cancellationToken);
            if (late is { Outcome: TransitionOutcome.Recorded, Sale: { } sale })
            {
                logger.LogWarning("Sale {Reference}: vend report {Outcome} came while the sale was {State}; {Amount} {Currency} delivered and not charged",
                    reference, report.Outcome, sale.State, sale.DeliveredNotChargedAmount, sale.Currency);
            }

            throw;
        }
    }

    public Task<SaleView> CancelAsync(string machineId, string reference, CancellationToken cancellationToken) =>
        MachineEventAsync(machineId, reference, new MachineCancelRequested(), cancellationToken);

    public async Task<WebhookOutcome> RecordWebhookAsync(string merchantId, PaymentEvent paymentEvent, CancellationToken cancellationToken)
    {
        // The merchant never changes: this instance's cached row answers it; an unknown reference is read.
        var sale = (await store.LoadCachedAsync(paymentEvent.Reference, cancellationToken))?.Sale;
        if (sale is null || sale.MerchantId != merchantId)
        {
            logger.LogWarning("Webhook {EventName} for unknown reference {Reference} (merchant {MerchantId}) recorded without effect",
                paymentEvent.Name, paymentEvent.Reference, merchantId);
            await unmatchedWebhooks.RecordAsync(merchantId, paymentEvent.Reference, paymentEvent.Name, paymentEvent.PspReference,
                paymentEvent.Amount.Value, paymentEvent.Timestamp, cancellationToken);
            return WebhookOutcome.UnknownReference;
        }

        var result = await ingest.RecordAsync(paymentEvent, cancellationToken);
        return result?.Outcome switch
        {
            TransitionOutcome.Recorded => WebhookOutcome.Applied,
            TransitionOutcome.Duplicate => WebhookOutcome.Duplicate,
            TransitionOutcome.NotFound => WebhookOutcome.UnknownReference,
            _ => WebhookOutcome.Ignored,
        };
    }

    // ---- operators ----

    async Task<SaleView?> ISaleOperatorService.GetAsync(string reference, CancellationToken cancellationToken) =>
        await store.GetAsync(reference, cancellationToken) is { } sale ? SaleViews.ToView(sale) : null;

    public Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken) =>
        store.GetHistoryAsync(reference, cancellationToken);

    public async Task<IReadOnlyList<SaleView>> ListByMachineAsync(string machineId, int max, CancellationToken cancellationToken)
    {
        var listing = await store.ListByMachineAsync(machineId, Math.Clamp(max, 1, 200), cancellationToken);
        var sales = await Task.WhenAll(listing.Select(entry => store.GetAsync(entry.Reference, cancellationToken)));
        return sales.OfType<Sale>().Select(sale => SaleViews.ToView(sale)).ToList();
    }

    public async Task<SaleView> RefundAsync(string reference, long amount, string requestId, CancellationToken cancellationToken)
    {
        if (requestId is null || !RequestIdRegex().IsMatch(requestId))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_request_id", "requestId: 1 to 40 of A-Z, a-z, 0-9 and '-'.", "requestId");
        }

        var result = await recorder.RecordAsync(reference, new RefundRequested(amount), $"x-refund-{requestId}", cancellationToken);
        return result switch
        {
            { Outcome: TransitionOutcome.NotFound } => throw NotFound(reference),
            { Outcome: TransitionOutcome.Refused, Decision.Refusal: { } refusal } => throw refusal.ToException(),
            { Sale: { } sale } => SaleViews.ToView(sale),
            _ => throw NotFound(reference),
        };
    }

    public Task<SaleView> RetryAsync(string reference, string requestId, CancellationToken cancellationToken) =>
        OperatorActionAsync(reference, requestId, "retry", new OperatorRetryRequested(), cancellationToken);

    public Task<SaleView> ReleaseAsync(string reference, string requestId, CancellationToken cancellationToken) =>
        OperatorActionAsync(reference, requestId, "release", new OperatorReleaseRequested(), cancellationToken);

    private async Task<SaleView> OperatorActionAsync(string reference, string requestId, string action, SaleEvent saleEvent, CancellationToken cancellationToken)
    {
        if (requestId is null || !RequestIdRegex().IsMatch(requestId))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_request_id", "requestId: 1 to 40 of A-Z, a-z, 0-9 and '-'.", "requestId");
        }

        // The dedupe row makes a repeat of the same requestId answer the sale as it is, never act twice.
        var result = await recorder.RecordAsync(reference, saleEvent, $"x-{action}-{requestId}", cancellationToken);
        return result switch
        {
            { Outcome: TransitionOutcome.NotFound } => throw NotFound(reference),
            { Outcome: TransitionOutcome.Refused, Decision.Refusal: { } refusal } => throw refusal.ToException(),
            { Sale: { } sale } => SaleViews.ToView(sale),
            _ => throw NotFound(reference),
        };
    }

    // ---- the create path ----

    private async Task<SaleView> ReplayAsync(string reference, CancellationToken cancellationToken)
    {
        // The claim and its sale are written in one transaction: a claimed id always has its sale.
        var sale = await recorder.LoadForReplayAsync(reference, cancellationToken)
            ?? throw new InvalidOperationException($"Sale {reference} is claimed but cannot be read.");

        if (sale.State == SaleState.Created && !sale.PaymentCreated)
        {
            // The first try's Vipps call failed transiently (or its answer was lost): same request, same key.
            _ = Merchant(sale.MerchantId);
            return await CreatePaymentAsync(sale, cancellationToken);
        }

        return SaleViews.ToView(sale, await QrAsync(sale, cancellationToken));
    }

    private async Task<SaleView> CreatePaymentAsync(Sale sale, CancellationToken cancellationToken)
    {
        var result = await payments.CreateAsync(sale, cancellationToken);
        return result.Outcome switch
        {
            PaymentCreateOutcome.Unavailable => throw new SaleException(RefusalKind.ProviderUnavailable, "vipps_unavailable", "Vipps MobilePay did not answer; retry with the same machineSaleId."),
            PaymentCreateOutcome.NoQr => throw new SaleException(RefusalKind.ProviderFailed, "vipps_no_qr", "Vipps MobilePay returned no QR for this payment; retry with the same machineSaleId."),
            PaymentCreateOutcome.MerchantNotConfigured => throw new SaleException(RefusalKind.NotConfigured, "merchant_not_configured", $"Merchant {sale.MerchantId} of this machine is not configured."),
            PaymentCreateOutcome.Refused => SaleViews.ToView(result.Sale),
            _ => SaleViews.ToView(result.Sale, await QrAsync(result.Sale, cancellationToken)),
        };
    }

    private async Task<SaleQr?> QrAsync(Sale sale, CancellationToken cancellationToken)
    {
        var image = sale.Qr is { Kind: SaleQrSource.Image } source && sale.State == SaleState.Created && sale.QrRequest.Format is "svg" or "png"
            ? await images.FetchAsync(new Uri(source.Url), cancellationToken)
            : null;
        return views.QrFor(sale, image);
    }

    private Sale NewSale(Machine machine, string machineSaleId, string reference, ValidatedSale validated)
    {
        var now = time.GetUtcNow();
        return new Sale
        {
            Reference = reference,
            MachineId = machine.MachineId,
            MachineSaleId = machineSaleId,
            MerchantId = machine.MerchantId,
            Currency = machine.Currency,
            CaptureMode = machine.CaptureMode,
            State = SaleState.Created,
            Amount = validated.Amount,
            Lines = validated.Lines,
            QrRequest = validated.Qr,
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = now + TimeSpan.FromSeconds(vippsOptions.Value.PaymentExpirySeconds),
            HistorySequence = 1,
        };
    }

    // ---- helpers ----

    private async Task<SaleView> MachineEventAsync(string machineId, string reference, SaleEvent saleEvent, CancellationToken cancellationToken)
    {
        // Ownership never changes: the cached row answers it (a refusal is still decided on a fresh read).
        if ((await store.LoadCachedAsync(reference, cancellationToken))?.Sale is not { } owned || owned.MachineId != machineId)
        {
            throw NotFound(reference);
        }

        var result = await recorder.RecordAsync(reference, saleEvent, null, cancellationToken);
        return result switch
        {
            { Outcome: TransitionOutcome.Refused, Decision.Refusal: { } refusal } => throw refusal.ToException(),
            { Sale: { } sale } => SaleViews.ToView(sale),
            _ => throw NotFound(reference),
        };
    }

    private async Task<Sale?> OwnedAsync(string machineId, string reference, CancellationToken cancellationToken) =>
        await store.GetAsync(reference, cancellationToken) is { } sale && sale.MachineId == machineId ? sale : null;

    private Task<Sale?> OwnedFreshAsync(string machineId, string reference, CancellationToken cancellationToken) =>
        OwnedAsync(machineId, reference, cancellationToken);

    /// <summary>
    /// How long the wait sleeps before it looks again: until the storage re-read, the deadline, or the moment the Vipps
    /// poll beside it falls due, whichever comes first. Without the last one a lost webhook's poll started up to a
    /// whole <see cref="StorageRecheck"/> after Vipps' guidance allowed it (issue 13: dropped-webhook latency).
    /// <c>ForPoll</c>: the pause ends for the poll only, so the wake reads nothing from storage.
    /// </summary>
    internal static (TimeSpan Pause, bool ForPoll) WaitPause(DateTimeOffset now, DateTimeOffset deadline, DateTimeOffset rereadAt, DateTimeOffset? pollDueAt)
    {
        var wakeAt = deadline < rereadAt ? deadline : rereadAt;
        // A poll due now or earlier is not a reason to spin: another wait on this sale holds it (ShouldPollVipps).
        if (pollDueAt is { } due && due > now && due < wakeAt)
        {
            return (due - now + PollWakeMargin, true);
        }

        return (wakeAt > now ? wakeAt - now : TimeSpan.Zero, false);
    }

    /// <summary>A timer may fire a hair before the clock reads its moment: wake just after the poll falls due.</summary>
    private static readonly TimeSpan PollWakeMargin = TimeSpan.FromMilliseconds(5);

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>When this sale's next Vipps poll is allowed (<see cref="PollAfter"/> after create, then every
    /// <see cref="PollInterval"/>); null when the sale is not one to poll.</summary>
    private DateTimeOffset? NextVippsPollAt(Sale sale)
    {
        if (sale.State != SaleState.Created || !sale.PaymentCreated)
        {
            return null;
        }

        var first = sale.CreatedAt + PollAfter;
        return _lastPoll.TryGetValue(sale.Reference, out var last) && last + PollInterval > first ? last + PollInterval : first;
    }

    private bool ShouldPollVipps(Sale sale, DateTimeOffset now)
    {
        if (sale.State != SaleState.Created || !sale.PaymentCreated || now - sale.CreatedAt < PollAfter)
        {
            return false;
        }

        var last = _lastPoll.GetOrAdd(sale.Reference, DateTimeOffset.MinValue);
        return now - last >= PollInterval && _lastPoll.TryUpdate(sale.Reference, now, last);
    }

    private VippsMerchantOptions Merchant(string merchantId) =>
        vippsOptions.Value.Merchants.TryGetValue(merchantId, out var merchant)
            ? merchant
            : throw new SaleException(RefusalKind.NotConfigured, "merchant_not_configured", $"Merchant {merchantId} of this machine is not configured.");

    internal static string FailureCode(VippsApiException exception) =>
        exception.ErrorCode is { } code ? $"vipps_{code}" : $"vipps_http_{(int?)exception.StatusCode ?? 0}";

    private static SaleException NotFound(string reference) => new(RefusalKind.NotFound, "sale_not_found", $"No sale {reference} for this caller.");

    [GeneratedRegex("^[A-Za-z0-9-]{1,40}$")]
    private static partial Regex RequestIdRegex();
}
