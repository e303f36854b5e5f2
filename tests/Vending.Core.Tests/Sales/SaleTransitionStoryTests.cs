using Vending.Core.Machines;
using Vending.Core.Sales;
using static Vending.Core.Tests.Sales.SaleExamples;

namespace Vending.Core.Tests.Sales;

/// <summary>Sales told as stories through the pure state machine: the orderings the table cannot show.</summary>
public class SaleTransitionStoryTests
{
    private static SaleDecision Decide(Sale sale, SaleEvent saleEvent) => SaleTransitions.Decide(sale, saleEvent, Now);

    [Fact]
    public void Delivered_is_captured_in_full_and_announced()
    {
        var vend = Decide(Authorized(), new VendReported(new VendReport(VendOutcome.Delivered, null)));
        var capture = Assert.Single(vend.Commands);
        Assert.Equal((OperationKind.Capture, 3000L), (capture.Kind, capture.Amount));
        Assert.Equal(["vending.sale.vend_reported.v1"], vend.Outbox.Select(e => e.Type));

        var done = Decide(vend.Sale, new CommandSucceeded(capture.Id, new PaymentAggregate(3000, 3000, 0, 0)));
        Assert.Equal(SaleState.Captured, done.Sale.State);
        Assert.Equal(3000, done.Sale.CapturedAmount);
        Assert.Empty(done.Commands);
        var captured = Assert.Single(done.Outbox);
        Assert.Equal("vending.sale.captured.v1", captured.Type);
        Assert.Equal($"{vend.Sale.Reference}-{captured.Sequence:D6}", captured.EventId);
        Assert.Equal(vend.Sale.OutboxSequence + 1, captured.Sequence);
    }

    [Fact]
    public void The_vend_deadline_runs_from_when_we_learned_of_the_authorization_not_from_Vipps_timestamp()
    {
        // The AUTHORIZED webhook was lost; polling finds the authorization ten minutes after Vipps stamped it.
        var observed = new VippsEventObserved(VippsEventKind.Authorized, 3000, "psp-late", null, Now.AddMinutes(-10));

        var authorized = Decide(Created(), observed);

        Assert.Equal(SaleState.Authorized, authorized.Sale.State);
        Assert.Equal(Now, authorized.Sale.AuthorizedAt);
    }

    [Fact]
    public void Partial_vend_captures_the_delivered_lines_first_then_releases_the_rest()
    {
        var vend = Decide(Authorized(), new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("cola", 1), new DeliveredLine("chips", 0)])));
        var capture = Assert.Single(vend.Commands);
        Assert.Equal((OperationKind.Capture, 1000L), (capture.Kind, capture.Amount));
        Assert.Equal(1000, vend.Sale.DeliveredAmount);

        var captured = Decide(vend.Sale, new CommandSucceeded(capture.Id, null));
        var release = Assert.Single(captured.Commands);
        Assert.Equal((OperationKind.Release, 2000L), (release.Kind, release.Amount));
        Assert.Equal(SaleState.Settling, captured.Sale.State);

        var released = Decide(captured.Sale, new CommandSucceeded(release.Id, null));
        Assert.Equal(SaleState.Captured, released.Sale.State);
        Assert.Equal((1000L, 2000L), (released.Sale.CapturedAmount, released.Sale.CancelledAmount));
    }

    [Fact]
    public void Failed_vend_is_cancelled_never_refunded()
    {
        var vend = Decide(Authorized(), new VendReported(new VendReport(VendOutcome.Failed, null)));
        var release = Assert.Single(vend.Commands);
        Assert.Equal(OperationKind.Release, release.Kind);

        var done = Apply(vend.Sale, new CommandSucceeded(release.Id, null));
        Assert.Equal(SaleState.Cancelled, done.State);
        Assert.Equal((0L, 3000L, 0L), (done.CapturedAmount, done.CancelledAmount, done.RefundedAmount));
        Assert.DoesNotContain(done.Operations, operation => operation.Kind is OperationKind.Refund or OperationKind.Capture);
    }

    [Fact]
    public void Machine_cancel_racing_an_approval_releases_the_reservation()
    {
        var cancel = Decide(Created(), new MachineCancelRequested());
        var terminate = Assert.Single(cancel.Commands);
        Assert.Equal(OperationKind.Terminate, terminate.Kind);

        // The customer approved as we cancelled: cancelTransactionOnly answers 6060.
        var refused = Decide(cancel.Sale, new CommandFailed(terminate.Id, "vipps_6060", SaleTransitions.CannotCancelAuthorized));
        var release = Assert.Single(refused.Commands);
        Assert.Equal(OperationKind.Release, release.Kind);

        var done = Apply(refused.Sale, new CommandSucceeded(release.Id, null));
        Assert.Equal(SaleState.Cancelled, done.State);
        Assert.Equal(0, done.CapturedAmount);
        Assert.Equal(3000, done.CancelledAmount);
    }

    [Fact]
    public void Authorized_webhook_while_terminating_waits_for_the_terminate_then_releases()
    {
        var cancelling = Apply(Created(), new MachineCancelRequested());
        var authorized = Decide(cancelling, VippsEvent(VippsEventKind.Authorized));
        Assert.Empty(authorized.Commands); // one command in flight at a time
        Assert.Equal(SaleState.Settling, authorized.Sale.State);

        var refused = Decide(authorized.Sale, new CommandFailed("terminate1", "vipps_6060", 6060));
        Assert.Equal(OperationKind.Release, Assert.Single(refused.Commands).Kind);
    }

    [Theory]
    [InlineData(SaleState.Expired)]
    [InlineData(SaleState.Aborted)]
    [InlineData(SaleState.Cancelled)]
    public void Authorization_after_the_sale_ended_is_released_never_kept(SaleState ended)
    {
        var sale = ended == SaleState.Cancelled
            ? Apply(Apply(Created(), new MachineCancelRequested()), new CommandFailed("terminate1", "vipps_6050", 6050))
            : InState(ended);
        Assert.Equal(ended, sale.State);

        var late = Decide(sale, VippsEvent(VippsEventKind.Authorized));
        var release = Assert.Single(late.Commands);
        Assert.Equal(OperationKind.Release, release.Kind);

        var done = Apply(late.Sale, new CommandSucceeded(release.Id, null));
        Assert.Equal(SaleState.Cancelled, done.State);
        Assert.Equal((3000L, 0L, 3000L), (done.AuthorizedAmount, done.CapturedAmount, done.CancelledAmount));
    }

    [Fact]
    public void Captured_webhook_before_the_command_result_counts_the_capture_once()
    {
        var settling = Settling();
        var capture = settling.FindPending(OperationKind.Capture)!;

        var webhook = Apply(settling, VippsEvent(VippsEventKind.Captured, 3000, capture.IdempotencyKey));
        Assert.Equal(SaleState.Captured, webhook.State);

        var lateResult = Decide(webhook, new CommandSucceeded(capture.Id, new PaymentAggregate(3000, 3000, 0, 0)));
        Assert.Equal(DecisionKind.Ignore, lateResult.Kind);
        Assert.Equal(3000, webhook.CapturedAmount);
    }

    [Fact]
    public void Captured_webhook_with_our_key_after_the_command_result_changes_nothing()
    {
        var captured = Captured();
        var capture = captured.Operations.Single(operation => operation.Kind == OperationKind.Capture);

        var decision = Decide(captured, VippsEvent(VippsEventKind.Captured, 3000, capture.IdempotencyKey));

        Assert.Equal(DecisionKind.Ignore, decision.Kind);
        Assert.Equal(3000, decision.Sale.CapturedAmount);
    }

    [Fact]
    public void Captured_webhook_without_a_key_after_the_command_result_only_confirms()
    {
        var captured = Captured();
        var capture = captured.Operations.Single(operation => operation.Kind == OperationKind.Capture);

        var confirmation = Apply(captured, VippsEvent(VippsEventKind.Captured, 3000));
        Assert.Equal(3000, confirmation.CapturedAmount);
        Assert.True(confirmation.FindOperation(capture.Id)!.ConfirmedByVipps);
    }

    [Fact]
    public void Terminated_webhook_completes_the_machine_cancel()
    {
        var cancelling = Apply(Created(), new MachineCancelRequested());
        var done = Decide(cancelling, VippsEvent(VippsEventKind.Terminated));
        Assert.Equal(SaleState.Cancelled, done.Sale.State);
        Assert.Equal(["vending.sale.cancelled.v1"], done.Outbox.Select(e => e.Type));
        Assert.Equal(DecisionKind.Ignore, Decide(done.Sale, new CommandSucceeded("terminate1", null)).Kind);
    }

    [Fact]
    public void Customer_abort_while_terminating_ends_the_sale_cancelled_with_nothing_reserved()
    {
        var cancelling = Apply(Created(), new MachineCancelRequested());
        var done = Apply(cancelling, VippsEvent(VippsEventKind.Aborted));
        Assert.Equal(SaleState.Cancelled, done.State);
        Assert.Equal((0L, 0L), (done.AuthorizedAmount, done.CapturedAmount));
    }

    [Fact]
    public void Capture_at_authorization_captures_at_once_and_refunds_what_was_not_delivered()
    {
        var created = Apply(New(CaptureMode.OnAuthorization), new PaymentCreateConfirmed(new SaleQrSource(SaleQrSource.Image, "https://qr.example/x")));
        var authorized = Decide(created, VippsEvent(VippsEventKind.Authorized));
        Assert.Equal((OperationKind.Capture, 3000L), (authorized.Commands[0].Kind, authorized.Commands[0].Amount));
        var captured = Apply(authorized.Sale, new CommandSucceeded("capture1", null));
        Assert.Equal(SaleState.Captured, captured.State);

        var partial = Decide(captured, new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("cola", 2)])));
        var refund = Assert.Single(partial.Commands);
        Assert.Equal((OperationKind.Refund, 1000L), (refund.Kind, refund.Amount));

        var refunded = Apply(partial.Sale, new CommandSucceeded(refund.Id, null));
        Assert.Equal(SaleState.Captured, refunded.State);
        Assert.Equal((3000L, 1000L), (refunded.CapturedAmount, refunded.RefundedAmount));
    }

    [Fact]
    public void The_same_vend_report_again_is_a_repeat_in_any_line_order_and_a_different_one_is_refused()
    {
        var settling = Apply(Authorized(), new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("cola", 1), new DeliveredLine("chips", 1)])));

        var repeat = Decide(settling, new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("chips", 1), new DeliveredLine("cola", 1)])));
        Assert.Equal(DecisionKind.Ignore, repeat.Kind);

        var different = Decide(settling, new VendReported(new VendReport(VendOutcome.Delivered, null)));
        Assert.Equal("vend_already_reported", different.Refusal!.Code);
    }

    [Theory]
    [InlineData("tea", 1)]
    [InlineData("cola", 3)]
    [InlineData("cola", -1)]
    public void Partial_lines_outside_the_order_are_refused(string productId, int quantity)
    {
        var decision = Decide(Authorized(), new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine(productId, quantity)])));
        Assert.Equal(("invalid_delivered_lines", "deliveredLines"), (decision.Refusal!.Code, decision.Refusal.Field));
    }

    [Fact]
    public void Partial_without_lines_is_refused()
    {
        var decision = Decide(Authorized(), new VendReported(new VendReport(VendOutcome.Partial, [])));
        Assert.Equal("delivered_lines_required", decision.Refusal!.Code);
    }

    [Fact]
    public void A_vend_report_after_the_deadline_is_refused_and_the_reservation_released()
    {
        var missed = Decide(Authorized(), new VendDeadlinePassed());
        Assert.Equal(OperationKind.Release, Assert.Single(missed.Commands).Kind);

        var late = Decide(missed.Sale, new VendReported(new VendReport(VendOutcome.Delivered, null)));
        Assert.Equal("vend_report_too_late", late.Refusal!.Code);
    }

    [Fact]
    public void A_permanently_refused_capture_releases_the_rest_then_fails_the_sale_with_the_code()
    {
        var refused = Decide(Settling(), new CommandFailed("capture1", "vipps_6100", 6100));
        var release = Assert.Single(refused.Commands);
        Assert.Equal((SaleState.Settling, OperationKind.Release, 3000L), (refused.Sale.State, release.Kind, release.Amount));

        var released = Decide(refused.Sale, new CommandSucceeded(release.Id, new PaymentAggregate(3000, 0, 3000, 0)));
        Assert.Equal((SaleState.Failed, "vipps_6100", 0L, 3000L),
            (released.Sale.State, released.Sale.FailureCode, released.Sale.CapturedAmount, released.Sale.CancelledAmount));
        Assert.Equal(["vending.sale.failed.v1"], released.Outbox.Select(e => e.Type));
    }

    [Fact]
    public void A_poisoned_capture_releases_the_rest_too()
    {
        var poisoned = Decide(Settling(), new CommandPoisoned("capture1"));
        Assert.Equal(OperationKind.Release, Assert.Single(poisoned.Commands).Kind);
        Assert.Equal("command_poisoned", poisoned.Sale.FailureCode);
    }

    [Fact]
    public void A_Vipps_event_with_our_key_completes_an_operation_recorded_as_refused()
    {
        var settling = Settling();
        var key = settling.FindOperation("capture1")!.IdempotencyKey;
        var failed = Apply(Apply(settling, new CommandFailed("capture1", "vipps_http_409", null)), new CommandSucceeded("release2", null));
        Assert.Equal(SaleState.Failed, failed.State);

        var captured = Decide(failed, VippsEvent(VippsEventKind.Captured, 3000, key) with { PspReference = "psp-late-capture" });

        Assert.Equal((SaleState.Captured, 3000L, 0L, null), (captured.Sale.State, captured.Sale.CapturedAmount, captured.Sale.CancelledAmount, captured.Sale.FailureCode));
        Assert.Equal(OperationStatus.Succeeded, captured.Sale.FindOperation("capture1")!.Status);
        Assert.Equal(["vending.sale.captured.v1"], captured.Outbox.Select(e => e.Type));
    }

    [Fact]
    public void A_Vipps_event_matched_only_by_kind_does_not_revive_a_refused_operation()
    {
        var failed = Apply(Apply(Settling(), new CommandFailed("capture1", "vipps_6100", 6100)), new CommandSucceeded("release2", null));

        var captured = Decide(failed, VippsEvent(VippsEventKind.Captured, 3000, idempotencyKey: null));

        Assert.Equal(SaleState.Failed, captured.Sale.State);
        Assert.Equal(OperationStatus.Failed, captured.Sale.FindOperation("capture1")!.Status);
    }

    [Fact]
    public void A_not_now_answer_closes_the_operation_and_issues_it_again_under_a_new_key()
    {
        var settling = Settling();
        var next = Now.AddSeconds(10);

        var notNow = Decide(settling, new CommandNotNow("capture1", "vipps_6280", next));

        var again = Assert.Single(notNow.Commands);
        var old = notNow.Sale.FindOperation("capture1")!;
        Assert.Equal((OperationStatus.Failed, "not_now:vipps_6280"), (old.Status, old.FailureCode));
        Assert.Equal((OperationKind.Capture, 3000L, next), (again.Kind, again.Amount, again.NextAttemptAt));
        Assert.NotEqual(old.IdempotencyKey, again.IdempotencyKey);
        Assert.Equal(SaleState.Settling, notNow.Sale.State);
        Assert.Equal(SaleState.Captured, Decide(notNow.Sale, new CommandSucceeded(again.Id, null)).Sale.State);
    }

    [Fact]
    public void A_deferral_records_the_next_attempt_and_a_superseded_chain_cannot_defer()
    {
        var settling = Settling();
        var deferred = Apply(settling, new CommandDeferred("capture1", 1, Now.AddSeconds(20), "vipps_http_401"));
        var operation = deferred.FindOperation("capture1")!;
        Assert.Equal((1, Now.AddSeconds(20), "vipps_http_401"), (operation.Attempt, operation.NextAttemptAt, operation.LastError));
        Assert.Equal(Now.AddSeconds(20), operation.DueAt);

        // The reconciler starts chain 2; chain 1's late deferral (attempt 2 after 1) no longer applies... (1 -> 2 would):
        var resent = Apply(deferred, new CommandReenqueued("capture1"), Now.AddMinutes(10));
        Assert.Equal(2, resent.FindOperation("capture1")!.Attempt);
        Assert.Equal(DecisionKind.Ignore, Decide(resent, new CommandDeferred("capture1", 2, Now.AddMinutes(11), "vipps_http_503")).Kind);
    }

    [Fact]
    public void A_dead_capture_at_authorization_machine_is_refunded_once()
    {
        var captured = Apply(Authorized(CaptureMode.OnAuthorization), new CommandSucceeded("capture1", null));
        Assert.Equal(SaleState.Captured, captured.State);
        Assert.True(SaleTransitions.AwaitsVendAfterCapture(captured));

        var deadline = Decide(captured, new VendDeadlinePassed());
        var refund = Assert.Single(deadline.Commands);
        Assert.Equal((OperationKind.Refund, 3000L), (refund.Kind, refund.Amount));
        Assert.False(SaleTransitions.AwaitsVendAfterCapture(deadline.Sale));

        var refunded = Apply(deadline.Sale, new CommandSucceeded(refund.Id, null));
        Assert.Equal(SaleState.Refunded, refunded.State);
        Assert.Equal(DecisionKind.Ignore, Decide(refunded, new VendDeadlinePassed()).Kind);
        var late = Decide(refunded, new VendReported(new VendReport(VendOutcome.Delivered, null)));
        Assert.Equal("vend_report_too_late", late.Refusal!.Code);

        var kept = Apply(refunded, new LateVendReported(new VendReport(VendOutcome.Delivered, null)));
        Assert.Equal(3000, kept.DeliveredNotChargedAmount);
        Assert.Equal(DecisionKind.Ignore, Decide(kept, new LateVendReported(new VendReport(VendOutcome.Delivered, null))).Kind);
    }

    [Fact]
    public void A_late_report_after_the_vend_deadline_release_is_kept_with_its_amount()
    {
        var released = Apply(Apply(Authorized(), new VendDeadlinePassed()), new CommandSucceeded("release1", null));
        Assert.Equal(SaleState.Cancelled, released.State);

        var kept = Decide(released, new LateVendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("cola", 1)])));

        Assert.Equal(1000, kept.Sale.DeliveredNotChargedAmount);
        Assert.Equal("late_vend_report", kept.History!.Type);
        Assert.Equal(SaleState.Cancelled, kept.Sale.State);
    }

    [Fact]
    public void Operator_retry_of_a_refused_capture_runs_under_a_new_key_only_while_reserved()
    {
        // Capture refused and nothing released yet (the release itself failed): the money is still reserved.
        var stuck = Apply(Apply(Settling(), new CommandFailed("capture1", "vipps_6100", 6100)), new CommandFailed("release2", "vipps_http_400", null));
        Assert.Equal(SaleState.Failed, stuck.State);

        var retry = Decide(stuck, new OperatorRetryRequested());
        var again = Assert.Single(retry.Commands);
        Assert.Equal((OperationKind.Release, 3000L), (again.Kind, again.Amount));

        var released = Apply(retry.Sale, new CommandSucceeded(again.Id, null));
        Assert.Equal((SaleState.Failed, "vipps_6100", 3000L), (released.State, released.FailureCode, released.CancelledAmount));
        Assert.Equal("nothing_to_retry", Decide(released, new OperatorRetryRequested()).Refusal!.Code);
        Assert.Equal("nothing_reserved", Decide(released, new OperatorReleaseRequested()).Refusal!.Code);
    }

    [Fact]
    public void Operator_release_frees_what_is_reserved_and_the_sale_then_captures_nothing()
    {
        var release = Decide(Authorized(), new OperatorReleaseRequested());
        var operation = Assert.Single(release.Commands);
        Assert.Equal((OperationKind.Release, 3000L), (operation.Kind, operation.Amount));

        var done = Apply(release.Sale, new CommandSucceeded(operation.Id, null));
        Assert.Equal((SaleState.Cancelled, 3000L), (done.State, done.CancelledAmount));
        Assert.Equal("sale_closed", Decide(done, new VendReported(new VendReport(VendOutcome.Delivered, null))).Refusal!.Code);
    }

    [Fact]
    public void Refunds_are_bounded_by_what_was_captured()
    {
        var partly = Apply(Apply(Captured(), new RefundRequested(1000)), new CommandSucceeded("refund2", null));
        Assert.Equal(SaleState.Captured, partly.State);

        var tooMuch = Decide(partly, new RefundRequested(2001));
        Assert.Equal(("refund_exceeds_captured", "amount"), (tooMuch.Refusal!.Code, tooMuch.Refusal.Field));
        Assert.Equal("invalid_amount", Decide(partly, new RefundRequested(0)).Refusal!.Code);

        var rest = Apply(Apply(partly, new RefundRequested(2000)), new CommandSucceeded("refund3", null));
        Assert.Equal(SaleState.Refunded, rest.State);
    }

    [Fact]
    public void Operations_have_distinct_stable_idempotency_keys()
    {
        var sale = Apply(Apply(Apply(Captured(), new RefundRequested(1000)), new CommandSucceeded("refund2", null)), new RefundRequested(500));
        var keys = sale.Operations.Select(operation => operation.IdempotencyKey).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(sale.Operations, operation => Assert.Equal(SaleTransitions.IdempotencyKey(sale.Reference, operation.Id), operation.IdempotencyKey));
    }

    [Fact]
    public void Expiry_is_inferred_only_after_the_expiry_time_counted_from_Vipps_acceptance_and_terminates_at_Vipps()
    {
        // Accepted by Vipps at Now (two minutes after our first try): the lifetime runs from then.
        Assert.Equal(Now.AddMinutes(10), Created().ExpiresAt);
        Assert.Equal(DecisionKind.Ignore, SaleTransitions.Decide(Created(), new PaymentExpiryPassed(), Start.AddMinutes(11)).Kind);

        var expiring = SaleTransitions.Decide(Created(), new PaymentExpiryPassed(), Now.AddMinutes(11));
        var terminate = Assert.Single(expiring.Commands);
        Assert.Equal((SaleState.Settling, OperationKind.Terminate), (expiring.Sale.State, terminate.Kind));

        var expired = Apply(expiring.Sale, new CommandSucceeded(terminate.Id, null));
        Assert.Equal(SaleState.Expired, expired.State);

        // The customer approved just before the terminate: 6060, and the money is released, never kept.
        var raced = Decide(expiring.Sale, new CommandFailed(terminate.Id, "vipps_6060", SaleTransitions.CannotCancelAuthorized));
        Assert.Equal(OperationKind.Release, Assert.Single(raced.Commands).Kind);
    }

    [Fact]
    public void Divergence_is_recorded_once_per_difference()
    {
        var first = Apply(Captured(), new DivergenceObserved("Vipps captured 0"));
        Assert.Equal(DecisionKind.Ignore, Decide(first, new DivergenceObserved("Vipps captured 0")).Kind);
        Assert.Equal(DecisionKind.Record, Decide(first, new DivergenceObserved("Vipps captured 1")).Kind);
    }
}
