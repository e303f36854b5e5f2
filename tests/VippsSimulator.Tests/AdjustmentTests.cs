using System.Text.Json.Nodes;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

/// <summary>Capture, cancel, refund and force approve: states, aggregate, event log and the documented codes.</summary>
public sealed class AdjustmentTests(SimulatorHarness sim) : IClassFixture<SimulatorHarness>
{
    private static OpenApiSchema Spec => OpenApiSchema.EPayment.Value;

    private static long Aggregate(Reply reply, string name) => reply.Json["aggregate"]![name]!["value"]!.GetValue<long>();

    [Fact]
    public async Task Partial_captures_add_up_and_never_exceed_the_authorized_amount()
    {
        var reference = await sim.AuthorizedPayment(2500);

        var first = await sim.Capture(reference, 1000);
        var second = await sim.Capture(reference, 1500);
        var over = await sim.Capture(reference, 1);

        first.AssertStatus(200);
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}/capture", "post", 200, first.Body));
        Assert.Equal(1000, Aggregate(first, "capturedAmount"));
        Assert.Equal(2500, Aggregate(second, "capturedAmount"));
        Assert.Equal("AUTHORIZED", second.Json["state"]!.GetValue<string>());
        over.AssertProblem(400, "6090");
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}/capture", "post", 400, over.Body));
        Assert.Equal(2500, sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Capture_before_authorization_is_6080()
    {
        var reference = SimulatorHarness.NewReference();
        (await sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);

        var reply = await sim.Capture(reference, 100);

        reply.AssertProblem(400, "6080");
        Assert.Equal(0, sim.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Cancel_after_full_capture_is_6040()
    {
        var reference = await sim.AuthorizedPayment(2500);
        (await sim.Capture(reference, 2500)).AssertStatus(200);

        (await sim.Cancel(reference)).AssertProblem(400, "6040");
    }

    [Fact]
    public async Task Cancel_after_partial_capture_releases_the_remainder_and_blocks_further_captures()
    {
        var reference = await sim.AuthorizedPayment(2500);
        (await sim.Capture(reference, 1000)).AssertStatus(200);

        var cancelled = await sim.Cancel(reference);
        var capture = await sim.Capture(reference, 100);

        cancelled.AssertStatus(200);
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}/cancel", "post", 200, cancelled.Body));
        Assert.Equal("AUTHORIZED", cancelled.Json["state"]!.GetValue<string>());
        Assert.Equal(1500, Aggregate(cancelled, "cancelledAmount"));
        Assert.Equal(1000, Aggregate(cancelled, "capturedAmount"));
        capture.AssertProblem(400, "6070");
    }

    [Fact]
    public async Task Cancel_before_authorization_terminates_with_the_full_amount_cancelled()
    {
        var reference = SimulatorHarness.NewReference();
        (await sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);

        var reply = await sim.Cancel(reference, transactionOnly: true);

        reply.AssertStatus(200);
        Assert.Equal("TERMINATED", reply.Json["state"]!.GetValue<string>());
        Assert.Equal(2500, Aggregate(reply, "cancelledAmount"));
        Assert.Equal(0, Aggregate(reply, "authorizedAmount"));
        Assert.NotNull(sim.Simulator.Approve(reference));
    }

    [Fact]
    public async Task Cancel_transaction_only_on_an_authorized_payment_is_6060_and_changes_nothing()
    {
        var reference = await sim.AuthorizedPayment();

        var reply = await sim.Cancel(reference, transactionOnly: true);

        reply.AssertProblem(400, "6060");
        var ledger = sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(0, ledger.Cancelled);
        Assert.Equal(2500, ledger.Authorized);
    }

    [Fact]
    public async Task Refunds_are_limited_to_captured_minus_refunded()
    {
        var reference = await sim.AuthorizedPayment(2500);
        var early = await sim.Refund(reference, 100);
        (await sim.Capture(reference, 2000)).AssertStatus(200);

        var partial = await sim.Refund(reference, 1500);
        var over = await sim.Refund(reference, 501);
        var rest = await sim.Refund(reference, 500);

        early.AssertProblem(400, "6020");
        partial.AssertStatus(200);
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}/refund", "post", 200, partial.Body));
        over.AssertProblem(400, "6150");
        Assert.Equal(2000, Aggregate(rest, "refundedAmount"));
    }

    [Theory]
    [InlineData("get")]
    [InlineData("events")]
    [InlineData("capture")]
    [InlineData("cancel")]
    [InlineData("refund")]
    [InlineData("approve")]
    public async Task Unknown_reference_is_404_with_5090(string operation)
    {
        var reference = SimulatorHarness.NewReference("unknown");
        var reply = operation switch
        {
            "get" => await sim.Get(reference),
            "events" => await sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}/events"),
            "capture" => await sim.Capture(reference, 100),
            "cancel" => await sim.Cancel(reference),
            "refund" => await sim.Refund(reference, 100),
            _ => await sim.Call(HttpMethod.Post, $"/epayment/v1/test/payments/{reference}/approve"),
        };

        reply.AssertProblem(404, "5090");
        Assert.Empty(Spec.Check(Spec.Component("Problem"), reply.Body));
    }

    [Fact]
    public async Task Capture_replays_by_key_and_conflicts_with_4010_on_another_body()
    {
        var reference = await sim.AuthorizedPayment(2500);

        var first = await sim.Capture(reference, 1000, "capture-1");
        var replay = await sim.Capture(reference, 1000, "capture-1");
        var conflict = await sim.Capture(reference, 1200, "capture-1");

        Assert.Equal(first.Body, replay.Body);
        conflict.AssertProblem(409, "4010");
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}/capture", "post", 409, conflict.Body));
        var ledger = sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(1000, ledger.Captured);
        Assert.Contains(ledger.Operations, o => o.Operation == "capture" && o.Replayed && o.IdempotencyKey == "capture-1");
    }

    [Fact]
    public async Task Refund_conflict_on_the_same_key_is_4020()
    {
        var reference = await sim.AuthorizedPayment(2500);
        (await sim.Capture(reference, 2500)).AssertStatus(200);
        (await sim.Refund(reference, 100, "refund-1")).AssertStatus(200);

        (await sim.Refund(reference, 200, "refund-1")).AssertProblem(409, "4020");
        Assert.Equal(100, sim.Simulator.Ledger.Find(reference)!.Refunded);
    }

    [Fact]
    public async Task A_4xx_stays_4xx_for_its_key()
    {
        var reference = SimulatorHarness.NewReference();
        (await sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);
        (await sim.Capture(reference, 100, "early-capture")).AssertProblem(400, "6080");
        Assert.Null(sim.Simulator.Approve(reference));

        (await sim.Capture(reference, 100, "early-capture")).AssertProblem(400, "6080");
        (await sim.Capture(reference, 100, "later-capture")).AssertStatus(200);
    }

    [Fact]
    public async Task Event_log_lists_every_operation_with_its_own_psp_reference()
    {
        var reference = await sim.AuthorizedPayment(2500);
        (await sim.Capture(reference, 1000, "cap-a")).AssertStatus(200);
        (await sim.Refund(reference, 400, "ref-a")).AssertStatus(200);
        (await sim.Cancel(reference)).AssertStatus(200);

        var events = await sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}/events");
        var get = await sim.Get(reference);

        events.AssertStatus(200);
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}/events", "get", 200, events.Body));
        var list = events.Json.AsArray().Select(e => e!).ToList();
        Assert.Equal(["CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED"], list.Select(e => e["name"]!.GetValue<string>()));
        Assert.Equal(list.Count, list.Select(e => e["pspReference"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(new long[] { 2500, 2500, 1000, 400, 1500 }, list.Select(e => e["amount"]!["value"]!.GetValue<long>()));
        Assert.Equal("cap-a", list[2]["idempotencyKey"]!.GetValue<string>());
        Assert.Equal(list[0]["pspReference"]!.GetValue<string>(), get.Json["pspReference"]!.GetValue<string>());
    }

    [Fact]
    public async Task Force_approve_authorizes_once()
    {
        var reference = SimulatorHarness.NewReference();
        (await sim.Create(SimulatorHarness.QrPayment(reference))).AssertStatus(201);

        var approved = await sim.Call(HttpMethod.Post, $"/epayment/v1/test/payments/{reference}/approve", new JsonObject());
        var again = await sim.Call(HttpMethod.Post, $"/epayment/v1/test/payments/{reference}/approve");

        approved.AssertStatus(200);
        again.AssertProblem(400, "10020");
        Assert.Equal("AUTHORIZED", (await sim.Get(reference)).Json["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Trigger_amount_151_is_refused_at_approval()
    {
        var reference = SimulatorHarness.NewReference();
        (await sim.Create(SimulatorHarness.QrPayment(reference, 151))).AssertStatus(201);

        var reply = await sim.Call(HttpMethod.Post, $"/epayment/v1/test/payments/{reference}/approve");

        reply.AssertProblem(400, "10010");
        Assert.Equal("CREATED", (await sim.Get(reference)).Json["state"]!.GetValue<string>());
    }
}
