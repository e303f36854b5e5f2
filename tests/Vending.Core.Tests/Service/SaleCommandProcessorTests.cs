using System.Net;
using Moq;
using Vending.Core.Commands;
using Vending.Core.Sales;
using Vending.Core.Tests.Storage;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Tests.Service;

[Collection(nameof(AzuriteCollection))]
public class SaleCommandProcessorTests(AzuriteFixture azurite)
{
    private readonly CoreHarness _core = new(azurite);

    private async Task<(string MachineId, string Reference)> AuthorizedSaleAsync()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(sale.Reference, "AUTHORIZED"), default);
        return (machine.MachineId, sale.Reference);
    }

    private async Task<(string MachineId, string Reference, SaleCommand Capture)> DeliveredSaleAsync()
    {
        var (machineId, reference) = await AuthorizedSaleAsync();
        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        var capture = Assert.Single(_core.Queue.Sent).Command;
        _core.Queue.Sent.Clear();
        return (machineId, reference, capture);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_later_with_the_same_idempotency_key()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        var keys = new List<string>();
        _core.Vipps.SetupSequence(v => v.CaptureAsync("vippsno", reference, It.IsAny<Amount>(), Moq.Capture.In(keys), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.TooManyRequests, null, "slow down"))
            .ReturnsAsync(CoreHarness.Modification(reference, 8000, 8000, 0, 0));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        var (retry, delay) = Assert.Single(_core.Queue.Sent);
        Assert.Equal((capture.OperationId, 1), (retry.OperationId, retry.Attempt));
        Assert.Equal(SaleCommandProcessor.Backoff(1, TimeSpan.FromMilliseconds(_core.Options.CommandRetryBaseMilliseconds)), delay);
        Assert.Equal(SaleState.Settling, (await _core.SaleAsync(reference)).State);

        await _core.RunCommandsAsync();

        Assert.Equal(SaleState.Captured, (await _core.SaleAsync(reference)).State);
        Assert.Equal(2, keys.Count);
        Assert.Equal(keys[0], keys[1]);
    }

    [Fact]
    public async Task Backoff_grows_and_is_capped()
    {
        var baseDelay = TimeSpan.FromSeconds(5);
        Assert.Equal(baseDelay, SaleCommandProcessor.Backoff(1, baseDelay));
        Assert.True(SaleCommandProcessor.Backoff(2, baseDelay) > SaleCommandProcessor.Backoff(1, baseDelay));
        Assert.Equal(SaleCommandProcessor.MaxBackoff, SaleCommandProcessor.Backoff(50, baseDelay));
        Assert.Equal(SaleCommandProcessor.EarlyMaxBackoff, SaleCommandProcessor.Backoff(50, baseDelay, SaleCommandProcessor.EarlyMaxBackoff));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_permanent_refusal_releases_the_reservation_and_fails_the_sale_with_the_Vipps_code()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6100, "Capture period expired"));
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, captured: 0));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        Assert.Equal("release", Assert.Single(_core.Queue.Sent).Command.Kind);
        await _core.RunCommandsAsync();
        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Failed, "vipps_6100", 0L, 8000L), (sale.State, sale.FailureCode, sale.CapturedAmount, sale.CancelledAmount));
        _core.Vipps.Verify(v => v.CancelAsync("vippsno", reference, false, It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_refused_retry_of_a_capture_that_happened_at_Vipps_is_recorded_as_captured()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        var key = IdempotencyKeys.For(reference, capture.OperationId);
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6200, "Cannot be captured"));
        _core.Vipps.Setup(v => v.GetPaymentEventsAsync("vippsno", reference, It.IsAny<CancellationToken>()))
            .ReturnsAsync([CoreHarness.Event(reference, "AUTHORIZED"), CoreHarness.Event(reference, "CAPTURED", 8000, "psp-cap", key)]);

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Captured, 8000L, null), (sale.State, sale.CapturedAmount, sale.FailureCode));
        Assert.Empty(_core.Queue.Sent);
    }

    [Fact]
    public async Task Our_key_in_the_event_log_completes_the_operation_even_when_that_event_was_seen_before()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        var key = IdempotencyKeys.For(reference, capture.OperationId);
        // The event's dedupe row exists already (seen once, without completing this operation).
        await _core.Recorder.RecordAsync(reference, new DivergenceObserved("seen"), Vending.Core.Sales.SaleDedupeKeys.VippsEvent("CAPTURED", "psp-cap"), default);
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6200, "Cannot be captured"));
        _core.Vipps.Setup(v => v.GetPaymentEventsAsync("vippsno", reference, It.IsAny<CancellationToken>()))
            .ReturnsAsync([CoreHarness.Event(reference, "CAPTURED", 8000, "psp-cap", key)]);

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Captured, 8000L), (sale.State, sale.CapturedAmount));
    }

    [Fact]
    public async Task A_refused_capture_that_Vipps_aggregate_shows_done_is_recorded_as_captured()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6170, "Already captured"));
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, captured: 8000));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        Assert.Equal((SaleState.Captured, 8000L), ((await _core.SaleAsync(reference)).State, (await _core.SaleAsync(reference)).CapturedAmount));
    }

    [Fact]
    public async Task When_Vipps_cannot_be_asked_a_refusal_is_not_concluded_but_retried_later()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.NotFound, null, "Not found"));
        _core.Vipps.Setup(v => v.GetPaymentEventsAsync("vippsno", reference, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.ServiceUnavailable, null, "down"));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        var sale = await _core.SaleAsync(reference);
        Assert.Equal(SaleState.Settling, sale.State);
        Assert.Equal(OperationStatus.Pending, sale.FindOperation(capture.OperationId)!.Status);
        Assert.Equal((capture.OperationId, 1), (Assert.Single(_core.Queue.Sent).Command.OperationId, _core.Queue.Sent[0].Command.Attempt));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task Refused_credentials_are_retried_with_the_same_key_and_shown_on_the_operation(HttpStatusCode status)
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        var keys = new List<string>();
        _core.Vipps.SetupSequence(v => v.CaptureAsync("vippsno", reference, It.IsAny<Amount>(), Moq.Capture.In(keys), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(status, null, "Access denied"))
            .ThrowsAsync(new VippsApiException(status, null, "Access denied"))
            .ReturnsAsync(CoreHarness.Modification(reference, 8000, 8000, 0, 0));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);
        var waiting = (await _core.SaleAsync(reference)).FindOperation(capture.OperationId)!;
        Assert.Equal((OperationStatus.Pending, $"vipps_http_{(int)status}"), (waiting.Status, waiting.LastError));
        var item = Vending.Core.Operator.OperatorSaleQueries.Reason(await _core.SaleAsync(reference), _core.Time.Now, _core.Options);
        Assert.Equal("capture_credentials_refused", item);

        await _core.RunCommandsAsync();

        Assert.Equal(SaleState.Captured, (await _core.SaleAsync(reference)).State);
        Assert.Equal(3, keys.Count);
        Assert.Single(keys.Distinct());
    }

    [Fact]
    public async Task A_capture_failing_past_its_window_asks_Vipps_then_releases()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.ServiceUnavailable, null, "down"));
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, captured: 0));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);
        var retry = Assert.Single(_core.Queue.Sent).Command;
        _core.Queue.Sent.Clear();
        Assert.Equal(SaleState.Settling, (await _core.SaleAsync(reference)).State);

        _core.Time.Advance(TimeSpan.FromSeconds(_core.Options.CommandRetryWindowSeconds));
        await _core.Processor.ProcessAsync(retry.ToJson(), 1, default);

        _core.Vipps.Verify(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal("release", Assert.Single(_core.Queue.Sent).Command.Kind);
        await _core.RunCommandsAsync();
        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Failed, "command_retries_exhausted", 8000L), (sale.State, sale.FailureCode, sale.CancelledAmount));
    }

    [Fact]
    public async Task A_not_now_code_is_retried_under_a_new_operation_and_key_after_a_delay()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        var keys = new List<string>();
        _core.Vipps.SetupSequence(v => v.CaptureAsync("vippsno", reference, It.IsAny<Amount>(), Moq.Capture.In(keys), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6280, "Capture failed, retry"))
            .ReturnsAsync(CoreHarness.Modification(reference, 8000, 8000, 0, 0));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);
        var (again, delay) = Assert.Single(_core.Queue.Sent);
        Assert.NotEqual(capture.OperationId, again.OperationId);
        Assert.True(delay > TimeSpan.Zero);
        await _core.RunCommandsAsync();

        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Captured, 8000L), (sale.State, sale.CapturedAmount));
        Assert.Equal([IdempotencyKeys.For(reference, capture.OperationId), IdempotencyKeys.For(reference, again.OperationId)], keys);
        Assert.Equal("not_now:vipps_6280", sale.FindOperation(capture.OperationId)!.FailureCode);
    }

    [Fact]
    public async Task A_chain_superseded_while_its_call_was_in_flight_stops_instead_of_taking_over()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback(() =>
            {
                // While this call is at Vipps, the reconciler starts chain 1 (it thought this one lost).
                _core.Recorder.RecordAsync(reference, new CommandReenqueued(capture.OperationId), null, default).GetAwaiter().GetResult();
            })
            .ThrowsAsync(new VippsApiException(HttpStatusCode.ServiceUnavailable, null, "down"));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        // Only the reconciler's message (attempt 1) is queued; chain 0 did not enqueue an attempt of its own.
        var queued = Assert.Single(_core.Queue.Sent).Command;
        Assert.Equal(1, queued.Attempt);
        Assert.Equal(1, (await _core.SaleAsync(reference)).FindOperation(capture.OperationId)!.Attempt);
    }

    [Fact]
    public async Task A_409_for_our_own_key_means_in_progress_and_is_retried_not_concluded()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.Conflict, 4020, "Idempotency key in use by a request in progress"));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        Assert.Equal(OperationStatus.Pending, (await _core.SaleAsync(reference)).FindOperation(capture.OperationId)!.Status);
        Assert.Equal(1, Assert.Single(_core.Queue.Sent).Command.Attempt);
        _core.Vipps.Verify(v => v.GetPaymentEventsAsync(It.IsAny<string>(), reference, It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Vipps_trace_id_of_a_refusal_is_kept_in_the_sale_history()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6100, "Capture period expired", traceId: "trace-6100-abc"));
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, captured: 0));

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        var history = await _core.Store.GetHistoryAsync(reference, default);
        Assert.Contains(history, entry => entry.Type == "command_failed" && entry.Detail.Contains("trace-6100-abc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_last_retry_runs_when_the_window_closes_not_a_full_backoff_later()
    {
        var options = new Vending.Core.VendingOptions { PublicBaseUrl = new Uri("http://127.0.0.1:7072"), CommandRetryWindowSeconds = 12, CommandRetryBaseMilliseconds = 10_000 };
        var core = new CoreHarness(azurite, options);
        var machine = CoreHarness.Machine();
        var reference = (await core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale.Reference;
        await core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);
        await core.Service.ReportVendAsync(machine.MachineId, reference, new VendReport(VendOutcome.Delivered, null), default);
        var capture = Assert.Single(core.Queue.Sent).Command;
        core.Queue.Sent.Clear();
        core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.ServiceUnavailable, null, "down"));

        core.Time.Advance(TimeSpan.FromSeconds(5));
        await core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        Assert.Equal(TimeSpan.FromSeconds(7), Assert.Single(core.Queue.Sent).Delay);
    }

    private static PaymentDetails Details(string reference, long captured) =>
        new(reference, "AUTHORIZED", new Amount("NOK", 8000),
            new Aggregate(new Amount("NOK", 8000), new Amount("NOK", 0), new Amount("NOK", captured), new Amount("NOK", 0)), "psp");

    [Fact]
    public async Task A_capture_already_recorded_by_its_webhook_is_not_sent_again()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        var key = IdempotencyKeys.For(reference, capture.OperationId);
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "CAPTURED", 8000, idempotencyKey: key), default);

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);
        await _core.Processor.ProcessAsync(capture.ToJson(), 2, default);

        _core.Vipps.Verify(v => v.CaptureAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Equal((SaleState.Captured, 8000L), ((await _core.SaleAsync(reference)).State, (await _core.SaleAsync(reference)).CapturedAmount));
    }

    [Fact]
    public async Task A_repeated_message_captures_once()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();

        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);
        await _core.Processor.ProcessAsync(capture.ToJson(), 1, default);

        _core.Vipps.Verify(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(8000, (await _core.SaleAsync(reference)).CapturedAmount);
    }

    [Fact]
    public async Task A_poisoned_capture_asks_Vipps_then_releases_and_fails_the_sale_visibly()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, captured: 0));

        await _core.Processor.ProcessPoisonAsync(capture.ToJson(), default);
        await _core.RunCommandsAsync();

        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Failed, "command_poisoned", 8000L), (sale.State, sale.FailureCode, sale.CancelledAmount));
    }

    [Fact]
    public async Task A_poisoned_capture_that_happened_at_Vipps_is_recorded_as_captured()
    {
        var (_, reference, capture) = await DeliveredSaleAsync();
        _core.Vipps.Setup(v => v.GetPaymentAsync("vippsno", reference, It.IsAny<CancellationToken>())).ReturnsAsync(Details(reference, captured: 8000));

        await _core.Processor.ProcessPoisonAsync(capture.ToJson(), default);

        Assert.Equal(SaleState.Captured, (await _core.SaleAsync(reference)).State);
    }

    [Fact]
    public async Task An_unreadable_message_is_dropped_without_effect()
    {
        await _core.Processor.ProcessAsync("{not json", 1, default);
        await _core.Processor.ProcessAsync("""{"reference":"nope","operationId":"capture1","kind":"capture","amount":1}""", 1, default);

        _core.Vipps.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_machine_cancel_racing_an_approval_releases_the_money()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;
        _core.Vipps.Setup(v => v.CancelAsync("vippsno", sale.Reference, true, It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6060, "Cannot cancel authorized"));

        var cancelling = await _core.Service.CancelAsync(machine.MachineId, sale.Reference, default);
        Assert.Equal(SaleState.Settling, cancelling.State);
        Assert.Equal("cancel", Assert.Single(_core.Queue.Sent).Command.Kind);
        await _core.RunCommandsAsync();

        var done = await _core.SaleAsync(sale.Reference);
        Assert.Equal((SaleState.Cancelled, 0L, 8000L), (done.State, done.CapturedAmount, done.CancelledAmount));
        _core.Vipps.Verify(v => v.CancelAsync("vippsno", sale.Reference, false, IdempotencyKeys.For(sale.Reference, "release2"), It.IsAny<CancellationToken>()), Times.Once);
        _core.Vipps.Verify(v => v.CaptureAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_partial_vend_captures_then_releases_in_order()
    {
        var (machineId, reference) = await AuthorizedSaleAsync();
        var calls = new List<string>();
        _core.Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), reference, It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback(() => calls.Add("capture")).ReturnsAsync(CoreHarness.Modification(reference, 8000, 3000, 0, 0));
        _core.Vipps.Setup(v => v.CancelAsync(It.IsAny<string>(), reference, false, It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback(() => calls.Add("release")).ReturnsAsync(CoreHarness.Modification(reference, 8000, 3000, 5000, 0));

        await _core.Service.ReportVendAsync(machineId, reference, new VendReport(VendOutcome.Partial, [new DeliveredLine("chips", 1)]), default);
        await _core.RunCommandsAsync();

        Assert.Equal(["capture", "release"], calls);
        var sale = await _core.SaleAsync(reference);
        Assert.Equal((SaleState.Captured, 3000L, 5000L), (sale.State, sale.CapturedAmount, sale.CancelledAmount));
        _core.Vipps.Verify(v => v.CaptureAsync("vippsno", reference, new Amount("NOK", 3000), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
    }
}
