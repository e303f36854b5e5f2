using Vending.Core.Sales;

namespace Vending.Core.Tests.Sales;

/// <summary>
/// Every (state, event) pair against the table below. A cell reads "ignore", "refuse {code}", or the state after the
/// transition followed by the commands it issues ("Settling +capture"). Adding a state or an event without deciding
/// its row makes <see cref="The_table_covers_every_state_and_event"/> fail.
/// </summary>
public class SaleTransitionTableTests
{
    public static readonly IReadOnlyDictionary<string, Func<Sale, SaleEvent>> Events = new Dictionary<string, Func<Sale, SaleEvent>>
    {
        ["vipps created"] = _ => SaleExamples.VippsEvent(VippsEventKind.Created),
        ["vipps authorized"] = _ => SaleExamples.VippsEvent(VippsEventKind.Authorized),
        ["vipps aborted"] = _ => SaleExamples.VippsEvent(VippsEventKind.Aborted),
        ["vipps expired"] = _ => SaleExamples.VippsEvent(VippsEventKind.Expired),
        ["vipps terminated"] = _ => SaleExamples.VippsEvent(VippsEventKind.Terminated),
        ["vipps cancelled"] = _ => SaleExamples.VippsEvent(VippsEventKind.Cancelled),
        ["vipps captured"] = _ => SaleExamples.VippsEvent(VippsEventKind.Captured),
        ["vipps refunded"] = _ => SaleExamples.VippsEvent(VippsEventKind.Refunded),
        ["create confirmed"] = _ => new PaymentCreateConfirmed(new SaleQrSource(SaleQrSource.Image, "https://qr.example/y")),
        ["create failed"] = _ => new PaymentCreateFailed("vipps_6010"),
        ["vend delivered"] = _ => new VendReported(new VendReport(VendOutcome.Delivered, null)),
        ["vend failed"] = _ => new VendReported(new VendReport(VendOutcome.Failed, null)),
        ["vend partial"] = _ => new VendReported(new VendReport(VendOutcome.Partial, [new DeliveredLine("cola", 1)])),
        ["machine cancel"] = _ => new MachineCancelRequested(),
        ["command succeeded"] = sale => new CommandSucceeded(PendingOrFirst(sale), null),
        ["command failed"] = sale => new CommandFailed(PendingOrFirst(sale), "vipps_6070", 6070),
        ["command poisoned"] = sale => new CommandPoisoned(PendingOrFirst(sale)),
        ["command reenqueued"] = sale => new CommandReenqueued(PendingOrFirst(sale)),
        ["vend deadline passed"] = _ => new VendDeadlinePassed(),
        ["expiry passed"] = _ => new PaymentExpiryPassed(),
        ["refund requested"] = _ => new RefundRequested(1000),
        ["divergence"] = _ => new DivergenceObserved("captured 0 at Vipps"),
        ["command deferred"] = sale => new CommandDeferred(PendingOrFirst(sale), 1, SaleExamples.Now.AddMinutes(31), "vipps_http_503"),
        ["command not now"] = sale => new CommandNotNow(PendingOrFirst(sale), "vipps_6280", SaleExamples.Now.AddMinutes(31)),
        ["operator retry"] = _ => new OperatorRetryRequested(),
        ["operator release"] = _ => new OperatorReleaseRequested(),
        ["late vend delivered"] = _ => new LateVendReported(new VendReport(VendOutcome.Delivered, null)),
    };

    private static string PendingOrFirst(Sale sale) =>
        sale.Operations.FirstOrDefault(operation => operation.Status == OperationStatus.Pending)?.Id ?? "capture1";

    public static IEnumerable<object[]> Pairs() =>
        from state in Enum.GetValues<SaleState>()
        from eventName in Events.Keys
        select new object[] { state, eventName };

    /// <summary>Decided by hand from the rules (docs/core.md), then frozen.</summary>
    public static readonly IReadOnlyDictionary<(SaleState, string), string> Expected = new Dictionary<(SaleState, string), string>
    {
        // Created
        [(SaleState.Created, "vipps created")] = "ignore",
        [(SaleState.Created, "vipps authorized")] = "Authorized",
        [(SaleState.Created, "vipps aborted")] = "Aborted",
        [(SaleState.Created, "vipps expired")] = "Expired",
        [(SaleState.Created, "vipps terminated")] = "Cancelled",
        [(SaleState.Created, "vipps cancelled")] = "Cancelled",
        [(SaleState.Created, "vipps captured")] = "Created",
        [(SaleState.Created, "vipps refunded")] = "Created",
        [(SaleState.Created, "create confirmed")] = "ignore",
        [(SaleState.Created, "create failed")] = "ignore",
        [(SaleState.Created, "vend delivered")] = "refuse sale_not_authorized",
        [(SaleState.Created, "vend failed")] = "refuse sale_not_authorized",
        [(SaleState.Created, "vend partial")] = "refuse sale_not_authorized",
        [(SaleState.Created, "machine cancel")] = "Settling +terminate",
        [(SaleState.Created, "command succeeded")] = "ignore",
        [(SaleState.Created, "command failed")] = "ignore",
        [(SaleState.Created, "command poisoned")] = "ignore",
        [(SaleState.Created, "command reenqueued")] = "ignore",
        [(SaleState.Created, "vend deadline passed")] = "ignore",
        [(SaleState.Created, "expiry passed")] = "Settling +terminate",
        [(SaleState.Created, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Created, "divergence")] = "Created",
        // Authorized
        [(SaleState.Authorized, "vipps created")] = "ignore",
        [(SaleState.Authorized, "vipps authorized")] = "ignore",
        [(SaleState.Authorized, "vipps aborted")] = "Authorized",
        [(SaleState.Authorized, "vipps expired")] = "Authorized",
        [(SaleState.Authorized, "vipps terminated")] = "Authorized",
        [(SaleState.Authorized, "vipps cancelled")] = "Cancelled",
        [(SaleState.Authorized, "vipps captured")] = "Authorized",
        [(SaleState.Authorized, "vipps refunded")] = "Authorized",
        [(SaleState.Authorized, "create confirmed")] = "ignore",
        [(SaleState.Authorized, "create failed")] = "ignore",
        [(SaleState.Authorized, "vend delivered")] = "Settling +capture",
        [(SaleState.Authorized, "vend failed")] = "Settling +release",
        [(SaleState.Authorized, "vend partial")] = "Settling +capture",
        [(SaleState.Authorized, "machine cancel")] = "Settling +release",
        [(SaleState.Authorized, "command succeeded")] = "ignore",
        [(SaleState.Authorized, "command failed")] = "ignore",
        [(SaleState.Authorized, "command poisoned")] = "ignore",
        [(SaleState.Authorized, "command reenqueued")] = "ignore",
        [(SaleState.Authorized, "vend deadline passed")] = "Settling +release",
        [(SaleState.Authorized, "expiry passed")] = "ignore",
        [(SaleState.Authorized, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Authorized, "divergence")] = "Authorized",
        // Settling
        [(SaleState.Settling, "vipps created")] = "ignore",
        [(SaleState.Settling, "vipps authorized")] = "ignore",
        [(SaleState.Settling, "vipps aborted")] = "Settling",
        [(SaleState.Settling, "vipps expired")] = "Settling",
        [(SaleState.Settling, "vipps terminated")] = "Settling",
        [(SaleState.Settling, "vipps cancelled")] = "Settling",
        [(SaleState.Settling, "vipps captured")] = "Captured",
        [(SaleState.Settling, "vipps refunded")] = "Settling",
        [(SaleState.Settling, "create confirmed")] = "ignore",
        [(SaleState.Settling, "create failed")] = "ignore",
        [(SaleState.Settling, "vend delivered")] = "ignore",
        [(SaleState.Settling, "vend failed")] = "refuse vend_already_reported",
        [(SaleState.Settling, "vend partial")] = "refuse vend_already_reported",
        [(SaleState.Settling, "machine cancel")] = "refuse sale_not_cancellable",
        [(SaleState.Settling, "command succeeded")] = "Captured",
        [(SaleState.Settling, "command failed")] = "Settling +release",
        [(SaleState.Settling, "command poisoned")] = "Settling +release",
        [(SaleState.Settling, "command reenqueued")] = "Settling +capture",
        [(SaleState.Settling, "vend deadline passed")] = "ignore",
        [(SaleState.Settling, "expiry passed")] = "ignore",
        [(SaleState.Settling, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Settling, "divergence")] = "Settling",
        // Captured
        [(SaleState.Captured, "vipps created")] = "ignore",
        [(SaleState.Captured, "vipps authorized")] = "ignore",
        [(SaleState.Captured, "vipps aborted")] = "Captured",
        [(SaleState.Captured, "vipps expired")] = "Captured",
        [(SaleState.Captured, "vipps terminated")] = "Captured",
        [(SaleState.Captured, "vipps cancelled")] = "Captured",
        [(SaleState.Captured, "vipps captured")] = "Captured",
        [(SaleState.Captured, "vipps refunded")] = "Refunded",
        [(SaleState.Captured, "create confirmed")] = "ignore",
        [(SaleState.Captured, "create failed")] = "ignore",
        [(SaleState.Captured, "vend delivered")] = "ignore",
        [(SaleState.Captured, "vend failed")] = "refuse vend_already_reported",
        [(SaleState.Captured, "vend partial")] = "refuse vend_already_reported",
        [(SaleState.Captured, "machine cancel")] = "refuse sale_not_cancellable",
        [(SaleState.Captured, "command succeeded")] = "ignore",
        [(SaleState.Captured, "command failed")] = "ignore",
        [(SaleState.Captured, "command poisoned")] = "ignore",
        [(SaleState.Captured, "command reenqueued")] = "ignore",
        [(SaleState.Captured, "vend deadline passed")] = "ignore",
        [(SaleState.Captured, "expiry passed")] = "ignore",
        [(SaleState.Captured, "refund requested")] = "Settling +refund",
        [(SaleState.Captured, "divergence")] = "Captured",
        // Cancelled
        [(SaleState.Cancelled, "vipps created")] = "ignore",
        [(SaleState.Cancelled, "vipps authorized")] = "ignore",
        [(SaleState.Cancelled, "vipps aborted")] = "Cancelled",
        [(SaleState.Cancelled, "vipps expired")] = "Cancelled",
        [(SaleState.Cancelled, "vipps terminated")] = "Cancelled",
        [(SaleState.Cancelled, "vipps cancelled")] = "Cancelled",
        [(SaleState.Cancelled, "vipps captured")] = "Cancelled",
        [(SaleState.Cancelled, "vipps refunded")] = "Cancelled",
        [(SaleState.Cancelled, "create confirmed")] = "ignore",
        [(SaleState.Cancelled, "create failed")] = "ignore",
        [(SaleState.Cancelled, "vend delivered")] = "refuse vend_already_reported",
        [(SaleState.Cancelled, "vend failed")] = "ignore",
        [(SaleState.Cancelled, "vend partial")] = "refuse vend_already_reported",
        [(SaleState.Cancelled, "machine cancel")] = "ignore",
        [(SaleState.Cancelled, "command succeeded")] = "ignore",
        [(SaleState.Cancelled, "command failed")] = "ignore",
        [(SaleState.Cancelled, "command poisoned")] = "ignore",
        [(SaleState.Cancelled, "command reenqueued")] = "ignore",
        [(SaleState.Cancelled, "vend deadline passed")] = "ignore",
        [(SaleState.Cancelled, "expiry passed")] = "ignore",
        [(SaleState.Cancelled, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Cancelled, "divergence")] = "Cancelled",
        // Aborted
        [(SaleState.Aborted, "vipps created")] = "ignore",
        [(SaleState.Aborted, "vipps authorized")] = "Settling +release",
        [(SaleState.Aborted, "vipps aborted")] = "Aborted",
        [(SaleState.Aborted, "vipps expired")] = "Aborted",
        [(SaleState.Aborted, "vipps terminated")] = "Aborted",
        [(SaleState.Aborted, "vipps cancelled")] = "Aborted",
        [(SaleState.Aborted, "vipps captured")] = "Aborted",
        [(SaleState.Aborted, "vipps refunded")] = "Aborted",
        [(SaleState.Aborted, "create confirmed")] = "ignore",
        [(SaleState.Aborted, "create failed")] = "ignore",
        [(SaleState.Aborted, "vend delivered")] = "refuse sale_closed",
        [(SaleState.Aborted, "vend failed")] = "refuse sale_closed",
        [(SaleState.Aborted, "vend partial")] = "refuse sale_closed",
        [(SaleState.Aborted, "machine cancel")] = "ignore",
        [(SaleState.Aborted, "command succeeded")] = "ignore",
        [(SaleState.Aborted, "command failed")] = "ignore",
        [(SaleState.Aborted, "command poisoned")] = "ignore",
        [(SaleState.Aborted, "command reenqueued")] = "ignore",
        [(SaleState.Aborted, "vend deadline passed")] = "ignore",
        [(SaleState.Aborted, "expiry passed")] = "ignore",
        [(SaleState.Aborted, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Aborted, "divergence")] = "Aborted",
        // Expired
        [(SaleState.Expired, "vipps created")] = "ignore",
        [(SaleState.Expired, "vipps authorized")] = "Settling +release",
        [(SaleState.Expired, "vipps aborted")] = "Expired",
        [(SaleState.Expired, "vipps expired")] = "Expired",
        [(SaleState.Expired, "vipps terminated")] = "Expired",
        [(SaleState.Expired, "vipps cancelled")] = "Expired",
        [(SaleState.Expired, "vipps captured")] = "Expired",
        [(SaleState.Expired, "vipps refunded")] = "Expired",
        [(SaleState.Expired, "create confirmed")] = "ignore",
        [(SaleState.Expired, "create failed")] = "ignore",
        [(SaleState.Expired, "vend delivered")] = "refuse sale_closed",
        [(SaleState.Expired, "vend failed")] = "refuse sale_closed",
        [(SaleState.Expired, "vend partial")] = "refuse sale_closed",
        [(SaleState.Expired, "machine cancel")] = "ignore",
        [(SaleState.Expired, "command succeeded")] = "ignore",
        [(SaleState.Expired, "command failed")] = "ignore",
        [(SaleState.Expired, "command poisoned")] = "ignore",
        [(SaleState.Expired, "command reenqueued")] = "ignore",
        [(SaleState.Expired, "vend deadline passed")] = "ignore",
        [(SaleState.Expired, "expiry passed")] = "ignore",
        [(SaleState.Expired, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Expired, "divergence")] = "Expired",
        // Failed
        [(SaleState.Failed, "vipps created")] = "ignore",
        [(SaleState.Failed, "vipps authorized")] = "Settling +release",
        [(SaleState.Failed, "vipps aborted")] = "Failed",
        [(SaleState.Failed, "vipps expired")] = "Failed",
        [(SaleState.Failed, "vipps terminated")] = "Failed",
        [(SaleState.Failed, "vipps cancelled")] = "Failed",
        [(SaleState.Failed, "vipps captured")] = "Failed",
        [(SaleState.Failed, "vipps refunded")] = "Failed",
        [(SaleState.Failed, "create confirmed")] = "ignore",
        [(SaleState.Failed, "create failed")] = "ignore",
        [(SaleState.Failed, "vend delivered")] = "refuse sale_closed",
        [(SaleState.Failed, "vend failed")] = "refuse sale_closed",
        [(SaleState.Failed, "vend partial")] = "refuse sale_closed",
        [(SaleState.Failed, "machine cancel")] = "refuse sale_not_cancellable",
        [(SaleState.Failed, "command succeeded")] = "ignore",
        [(SaleState.Failed, "command failed")] = "ignore",
        [(SaleState.Failed, "command poisoned")] = "ignore",
        [(SaleState.Failed, "command reenqueued")] = "ignore",
        [(SaleState.Failed, "vend deadline passed")] = "ignore",
        [(SaleState.Failed, "expiry passed")] = "ignore",
        [(SaleState.Failed, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Failed, "divergence")] = "Failed",
        // Refunded
        [(SaleState.Refunded, "vipps created")] = "ignore",
        [(SaleState.Refunded, "vipps authorized")] = "ignore",
        [(SaleState.Refunded, "vipps aborted")] = "Refunded",
        [(SaleState.Refunded, "vipps expired")] = "Refunded",
        [(SaleState.Refunded, "vipps terminated")] = "Refunded",
        [(SaleState.Refunded, "vipps cancelled")] = "Refunded",
        [(SaleState.Refunded, "vipps captured")] = "Refunded",
        [(SaleState.Refunded, "vipps refunded")] = "Refunded",
        [(SaleState.Refunded, "create confirmed")] = "ignore",
        [(SaleState.Refunded, "create failed")] = "ignore",
        [(SaleState.Refunded, "vend delivered")] = "ignore",
        [(SaleState.Refunded, "vend failed")] = "refuse vend_already_reported",
        [(SaleState.Refunded, "vend partial")] = "refuse vend_already_reported",
        [(SaleState.Refunded, "machine cancel")] = "refuse sale_not_cancellable",
        [(SaleState.Refunded, "command succeeded")] = "ignore",
        [(SaleState.Refunded, "command failed")] = "ignore",
        [(SaleState.Refunded, "command poisoned")] = "ignore",
        [(SaleState.Refunded, "command reenqueued")] = "ignore",
        [(SaleState.Refunded, "vend deadline passed")] = "ignore",
        [(SaleState.Refunded, "expiry passed")] = "ignore",
        [(SaleState.Refunded, "refund requested")] = "refuse refund_not_allowed",
        [(SaleState.Refunded, "divergence")] = "Refunded",
        // Retries, "not now", operator actions, late vend reports (docs/core.md, "No money in limbo")
        [(SaleState.Created, "command deferred")] = "ignore",
        [(SaleState.Created, "command not now")] = "ignore",
        [(SaleState.Created, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Created, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Created, "late vend delivered")] = "ignore",
        [(SaleState.Authorized, "command deferred")] = "ignore",
        [(SaleState.Authorized, "command not now")] = "ignore",
        [(SaleState.Authorized, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Authorized, "operator release")] = "Settling +release",
        [(SaleState.Authorized, "late vend delivered")] = "ignore",
        [(SaleState.Settling, "command deferred")] = "Settling",
        [(SaleState.Settling, "command not now")] = "Settling +capture",
        [(SaleState.Settling, "operator retry")] = "refuse operation_in_flight",
        [(SaleState.Settling, "operator release")] = "refuse operation_in_flight",
        [(SaleState.Settling, "late vend delivered")] = "ignore",
        [(SaleState.Captured, "command deferred")] = "ignore",
        [(SaleState.Captured, "command not now")] = "ignore",
        [(SaleState.Captured, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Captured, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Captured, "late vend delivered")] = "ignore",
        [(SaleState.Cancelled, "command deferred")] = "ignore",
        [(SaleState.Cancelled, "command not now")] = "ignore",
        [(SaleState.Cancelled, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Cancelled, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Cancelled, "late vend delivered")] = "ignore",
        [(SaleState.Aborted, "command deferred")] = "ignore",
        [(SaleState.Aborted, "command not now")] = "ignore",
        [(SaleState.Aborted, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Aborted, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Aborted, "late vend delivered")] = "ignore",
        [(SaleState.Expired, "command deferred")] = "ignore",
        [(SaleState.Expired, "command not now")] = "ignore",
        [(SaleState.Expired, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Expired, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Expired, "late vend delivered")] = "ignore",
        [(SaleState.Failed, "command deferred")] = "ignore",
        [(SaleState.Failed, "command not now")] = "ignore",
        [(SaleState.Failed, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Failed, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Failed, "late vend delivered")] = "ignore",
        [(SaleState.Refunded, "command deferred")] = "ignore",
        [(SaleState.Refunded, "command not now")] = "ignore",
        [(SaleState.Refunded, "operator retry")] = "refuse nothing_to_retry",
        [(SaleState.Refunded, "operator release")] = "refuse nothing_reserved",
        [(SaleState.Refunded, "late vend delivered")] = "ignore",
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Every_state_and_event_decides_as_the_table_says(SaleState state, string eventName)
    {
        var sale = SaleExamples.InState(state);
        Assert.Equal(state, sale.State);

        var decision = SaleTransitions.Decide(sale, Events[eventName](sale), SaleExamples.Now.AddMinutes(30));

        Assert.Equal(Expected[(state, eventName)], Describe(decision));
        if (decision.Kind != DecisionKind.Record)
        {
            // A refusal or a repeat changes nothing.
            Assert.Same(sale, decision.Sale);
            Assert.Empty(decision.Commands);
            Assert.Empty(decision.Outbox);
        }
        else
        {
            Assert.Equal(sale.HistorySequence + 1, decision.History!.Sequence);
            Assert.Equal(sale.OutboxSequence + decision.Outbox.Count, decision.Sale.OutboxSequence);
        }
    }

    [Fact]
    public void The_table_covers_every_state_and_event()
    {
        Assert.Equal(Enum.GetValues<SaleState>().Length * Events.Count, Expected.Count);
        var eventTypes = typeof(SaleEvent).Assembly.GetTypes().Where(type => type.IsSubclassOf(typeof(SaleEvent))).ToList();
        var covered = Events.Values.Select(create => create(SaleExamples.Created()).GetType()).Distinct().ToList();
        Assert.All(eventTypes, type => Assert.Contains(type, covered));
        var kinds = Events.Values.Select(create => create(SaleExamples.Created())).OfType<VippsEventObserved>().Select(e => e.Kind).Distinct();
        Assert.Equal(Enum.GetValues<VippsEventKind>().Length, kinds.Count());
    }

    internal static string Describe(SaleDecision decision) => decision.Kind switch
    {
        DecisionKind.Ignore => "ignore",
        DecisionKind.Refuse => $"refuse {decision.Refusal!.Code}",
        _ => string.Join(" ", new[] { decision.Sale.State.ToString() }
            .Concat(decision.Commands.Select(command => "+" + command.Kind.ToString().ToLowerInvariant()))),
    };
}
