using System.Net;
using System.Text.Json;
using Vending.Vipps;
using Vending.Vipps.Webhooks;
using VippsSimulator.Control;
using VippsSimulator.Faults;
using VippsSimulator.Payments;
using VippsSimulator.Webhooks;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>
/// One sale's story per test, through the whole product on real HTTP: machine API → the Function App (real worker under the local Functions host) → Vipps simulator →
/// signed webhooks → queue commands → reconciler. Every test asserts what really moved (the simulator's ledger: exact
/// captured and cancelled amounts, the number of capture operations) and what the machine saw.
/// </summary>
public sealed class SaleStoryTests(SaleStoryStack stack) : SaleStories(stack), IClassFixture<SaleStoryStack>;

/// <summary>The same stories with three instances over the same storage behind a round-robin front: the long poll,
/// the vend report, Vipps' webhooks and the queue commands of one sale land on different instances.</summary>
public sealed class ThreeInstanceSaleStoryTests(ThreeInstanceStack stack) : SaleStories(stack), IClassFixture<ThreeInstanceStack>
{
    [Fact]
    public async Task The_front_spreads_one_sale_over_the_instances_and_its_webhooks_land_there_too()
    {
        using var machine = await stack.NewMachineAsync("spread");
        var created = await machine.CreateSaleAsync(MachineClient.Cola(2100));
        var reference = created.Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        var authorized = await machine.WaitForStateAsync(reference, "Authorized");

        // Round robin per request: six reads in a row cannot all come from one of three instances.
        var served = new List<string?> { created.Instance, authorized.Instance };
        for (var i = 0; i < 6; i++)
        {
            served.Add((await machine.GetAsync(reference)).AssertStatus(HttpStatusCode.OK).Instance);
        }

        Assert.All(served, instance => Assert.Contains(instance, new[] { "i0", "i1", "i2" }));
        Assert.True(served.Distinct().Count() >= 2, $"served by {string.Join(",", served)}");

        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(reference, "Captured");
        var landings = await ProductStack.WaitForAsync(
            () => Task.FromResult<IReadOnlyList<Vending.Stack.WebhookLanding>?>(
                stack.Stack.Front!.WebhooksFor(reference) is { Count: > 0 } l && l.Any(w => w.EventName == "AUTHORIZED") ? l : null),
            what: "the AUTHORIZED webhook passed the front");
        Assert.All(landings, w => Assert.Contains(w.Instance, new[] { "i0", "i1", "i2" }));
        Assert.Contains(landings, w => w.EventName == "AUTHORIZED" && w.Status == 200);
    }
}

/// <summary>The sale stories, run by <see cref="SaleStoryTests"/> (one instance) and <see cref="ThreeInstanceSaleStoryTests"/>.</summary>
public abstract class SaleStories(ProductStack stack)
{
    private static readonly SaleLine[] ColaAndChips = [new("cola", "Cola 0.5 l", 2, 2500), new("chips", "Chips", 1, 3000)];

    [Fact]
    public async Task Delivered_sale_is_authorized_by_long_poll_then_captured_once_and_its_events_are_published_in_order()
    {
        using var machine = await stack.NewMachineAsync("deliver");
        var created = await machine.CreateSaleAsync(ColaAndChips);
        var reference = created.Reference;
        Assert.Equal("Created", created.State);
        Assert.Equal(8000, created.Money("amount"));
        Assert.Equal("svg", created.Json.GetProperty("qr").GetProperty("format").GetString());

        var poll = machine.LongPollAsync(reference, "Created");
        Assert.Null(stack.Simulator.Approve(reference));
        var authorized = (await poll).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Authorized", authorized.State);
        Assert.Equal(8000, authorized.Money("authorizedAmount"));

        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        var captured = await machine.WaitForStateAsync(reference, "Captured");
        Assert.Equal(8000, captured.Money("capturedAmount"));
        Assert.Equal(0, captured.Money("cancelledAmount"));

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(PaymentState.AUTHORIZED, ledger.State);
        Assert.Equal((8000L, 8000L, 0L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled, ledger.Refunded));
        var capture = Assert.Single(Successful(ledger, "capture"));
        Assert.Equal(8000, capture.Amount);
        Assert.Empty(Successful(ledger, "cancel"));

        var events = await EventsAsync(reference, "vending.sale.captured.v1");
        Assert.Equal(
            ["vending.sale.created.v1", "vending.sale.authorized.v1", "vending.sale.vend_reported.v1", "vending.sale.captured.v1"],
            events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal([1L, 2L, 3L, 4L], events.Select(e => e.GetProperty("data").GetProperty("sequence").GetInt64()));
        var last = events[^1].GetProperty("data");
        Assert.Equal("Captured", last.GetProperty("state").GetString());
        Assert.Equal(8000, last.GetProperty("capturedAmount").GetInt64());
        Assert.Equal($"/vending/machines/{machine.MachineId}", events[0].GetProperty("source").GetString());
    }

    [Fact]
    public async Task Failed_vend_releases_the_whole_reservation_and_captures_nothing()
    {
        using var machine = await stack.NewMachineAsync("failed");
        var reference = (await machine.CreateSaleAsync(ColaAndChips)).Reference;
        await ApproveAsync(machine, reference);

        (await machine.VendAsync(reference, "failed")).AssertStatus(HttpStatusCode.OK);
        var cancelled = await machine.WaitForStateAsync(reference, "Cancelled");
        Assert.Equal((0L, 8000L), (cancelled.Money("capturedAmount"), cancelled.Money("cancelledAmount")));

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((8000L, 0L, 8000L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.DoesNotContain(ledger.Operations, o => o.Operation == "capture");
        Assert.Single(Successful(ledger, "cancel"));

        var events = await EventsAsync(reference, "vending.sale.cancelled.v1");
        Assert.Equal("vending.sale.cancelled.v1", events[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Partial_vend_captures_the_delivered_lines_and_releases_the_rest()
    {
        using var machine = await stack.NewMachineAsync("partial");
        var reference = (await machine.CreateSaleAsync(ColaAndChips)).Reference;
        await ApproveAsync(machine, reference);

        // One of two colas and the chips came out: 2500 + 3000 delivered, 2500 not.
        (await machine.VendAsync(reference, "partial", [("cola", 1), ("chips", 1)])).AssertStatus(HttpStatusCode.OK);
        var done = await machine.WaitForStateAsync(reference, "Captured");
        Assert.Equal((5500L, 2500L, 5500L), (done.Money("capturedAmount"), done.Money("cancelledAmount"), done.Money("deliveredAmount")));

        // The release follows the capture: wait until Vipps has it too.
        await ProductStack.WaitUntilAsync(() => stack.Simulator.Ledger.Find(reference)!.Cancelled == 2500, what: "the rest released at Vipps");
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((8000L, 5500L, 2500L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled, ledger.Refunded));
        Assert.Equal(5500, Assert.Single(Successful(ledger, "capture")).Amount);
        Assert.Single(Successful(ledger, "cancel"));
        Assert.True(
            ledger.Operations.ToList().FindIndex(o => o.Operation == "capture") < ledger.Operations.ToList().FindIndex(o => o.Operation == "cancel"),
            "capture goes before the release of the rest (a release frees all that is uncaptured)");
    }

    [Fact]
    public async Task Customer_abort_ends_the_sale_aborted_with_nothing_reserved()
    {
        using var machine = await stack.NewMachineAsync("abort");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola())).Reference;

        var poll = machine.LongPollAsync(reference, "Created");
        Assert.Null(stack.Simulator.Abort(reference));
        Assert.Equal("Aborted", (await poll).State);

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(PaymentState.ABORTED, ledger.State);
        Assert.Equal((0L, 0L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.DoesNotContain(ledger.Operations, o => o.Operation is "capture" or "cancel");
        var vend = await machine.VendAsync(reference, "delivered");
        Assert.Equal(HttpStatusCode.Conflict, vend.Status);
    }

    [Fact]
    public async Task Lost_AUTHORIZED_webhook_the_sale_still_becomes_Authorized_and_completes()
    {
        using var machine = await stack.NewMachineAsync("dropped");
        // Every webhook of this merchant is dropped while the rule is active (tests of one class run one at a time).
        stack.Simulator.Faults.Add(new FaultSettings { Webhooks = { new WebhookFaultRule { Msn = "100001", DropRate = 1 } } });
        string reference;
        try
        {
            reference = (await machine.CreateSaleAsync(MachineClient.Cola(3500))).Reference;
            Assert.Null(stack.Simulator.Approve(reference));
            await ProductStack.WaitUntilAsync(
                () => stack.Simulator.WebhookDeliveries.Snapshot(reference).Any(d => d.EventType == WebhookEventTypes.Authorized && d.Status == DeliveryStatus.Dropped),
                what: "the AUTHORIZED webhook was dropped");

            // Found by asking Vipps (the long poll's event-log check or the reconciler), not by a webhook.
            var authorized = await machine.WaitForStateAsync(reference, "Authorized");
            Assert.Equal(3500, authorized.Money("authorizedAmount"));
        }
        finally
        {
            stack.Simulator.Faults.Reset();
        }

        Assert.DoesNotContain(stack.Simulator.WebhookDeliveries.Snapshot(reference),
            d => d.EventType == WebhookEventTypes.Authorized && d.Status == DeliveryStatus.Delivered);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(reference, "Captured");
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((3500L, 3500L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.Single(Successful(ledger, "capture"));
    }

    [Fact]
    public async Task Capture_answered_500_twice_is_retried_and_captured_exactly_once()
    {
        using var machine = await stack.NewMachineAsync("cap500");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(4200))).Reference;
        await ApproveAsync(machine, reference);

        stack.Simulator.Faults.FailNext("capture", reference, count: 2, status: 500);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(reference, "Captured");

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((4200L, 4200L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        var capture = Assert.Single(ledger.Operations, o => o.Operation == "capture");
        Assert.Equal(("ok", false, 4200L), (capture.Outcome, capture.Replayed, capture.Amount));
        Assert.Equal(IdempotencyKeys.For(reference, "capture1"), capture.IdempotencyKey);
        Assert.Empty(stack.Simulator.Faults.Snapshot().Rules);
    }

    [Fact]
    public async Task Capture_done_but_its_answer_lost_twice_is_replayed_with_the_same_key_never_captured_again()
    {
        using var machine = await stack.NewMachineAsync("caplost");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(4300))).Reference;
        await ApproveAsync(machine, reference);

        // Vipps captures, then the answer is lost (500), twice: only the idempotency key stands between us and a double capture.
        stack.Simulator.Faults.FailNext("capture", reference, count: 2, status: 500, kind: FaultKind.ResponseLost);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        var done = await machine.WaitForStateAsync(reference, "Captured");
        Assert.Equal(4300, done.Money("capturedAmount"));

        // The sale may complete by the CAPTURED webhook before the client's retries are through: wait for all three calls.
        await ProductStack.WaitUntilAsync(
            () => stack.Simulator.Ledger.Find(reference)!.Operations.Count(o => o.Operation == "capture") == 3,
            what: "the capture sent once and retried twice after the lost answers");
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((4300L, 4300L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        var captures = ledger.Operations.Where(o => o.Operation == "capture").ToList();
        Assert.Equal([false, true, true], captures.Select(o => o.Replayed));
        Assert.All(captures, o => Assert.Equal(IdempotencyKeys.For(reference, "capture1"), o.IdempotencyKey));
        Assert.Single(ledger.Events, e => e.Name == PaymentEventName.CAPTURED);
    }

    [Fact]
    public async Task Runner_down_between_authorization_and_vend_report_converges_after_restart()
    {
        using var machine = await stack.NewMachineAsync("restart");
        var reference = (await machine.CreateSaleAsync(ColaAndChips)).Reference;

        // The instance dies; the customer approves meanwhile: Vipps' AUTHORIZED webhook finds nobody and is retried.
        await stack.StopRunnerAsync();
        Assert.Null(stack.Simulator.Approve(reference));
        await ProductStack.WaitUntilAsync(
            () => stack.Simulator.WebhookDeliveries.Snapshot(reference).Any(d => d.EventType == WebhookEventTypes.Authorized && d.Attempts.Count > 0),
            what: "Vipps tried to deliver AUTHORIZED while the runner was down");
        await stack.StartRunnerAgainAsync();

        var authorized = await machine.WaitForStateAsync(reference, "Authorized");
        Assert.Equal(8000, authorized.Money("authorizedAmount"));

        // The machine reports, and the instance dies again right away, with the capture possibly in flight.
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await stack.RestartRunnerAsync();

        await machine.WaitForStateAsync(reference, "Captured");
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((8000L, 8000L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.Single(Successful(ledger, "capture"));
        var events = await EventsAsync(reference, "vending.sale.captured.v1");
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("data").GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task Machine_cancel_before_approval_terminates_the_payment_and_nothing_is_reserved()
    {
        using var machine = await stack.NewMachineAsync("mcancel");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(2000))).Reference;

        (await machine.CancelAsync(reference)).AssertStatus(HttpStatusCode.OK);
        var cancelled = await machine.WaitForStateAsync(reference, "Cancelled");
        Assert.Equal(0, cancelled.Money("capturedAmount"));

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(PaymentState.TERMINATED, ledger.State);
        Assert.Equal((0L, 0L, 0L), (ledger.Authorized, ledger.Captured, ledger.Refunded));
        Assert.Single(Successful(ledger, "cancel"));
        Assert.DoesNotContain(ledger.Operations, o => o.Operation == "capture");
        // The customer who scans now cannot pay any more.
        Assert.NotNull(stack.Simulator.Approve(reference));
        Assert.Equal(0, stack.Simulator.Ledger.Find(reference)!.Authorized);
    }

    [Fact]
    public async Task OnAuthorization_machine_is_captured_at_authorization_without_a_vend_report()
    {
        using var machine = await stack.NewMachineAsync("onauth", captureMode: "OnAuthorization");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(1900))).Reference;

        Assert.Null(stack.Simulator.Approve(reference));
        var captured = await machine.WaitForStateAsync(reference, "Captured");
        Assert.Equal(1900, captured.Money("capturedAmount"));

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((1900L, 1900L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.Equal(1900, Assert.Single(Successful(ledger, "capture")).Amount);
    }

    [Fact]
    public async Task MobilePay_merchant_gets_Vipps_QR_image_link_and_a_sale_completes_in_DKK()
    {
        using var machine = await stack.NewMachineAsync("mpurl", merchantId: "mobilepaydk", currency: "DKK", qrFormat: "url");
        var created = await machine.CreateSaleAsync([new SaleLine("water", "Vand 0.5 l", 1, 1500)], currency: "DKK");
        var reference = created.Reference;
        var qr = created.Json.GetProperty("qr");
        Assert.Equal("url", qr.GetProperty("format").GetString());

        // The link is Vipps' own QR image (not TEXT/TARGETURL, which this merchant is not approved for) and it is
        // handed over as is: we never encode that link into a QR of our own.
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal("MobilePay", BrandOf(ledger));
        Assert.NotEqual("TEXT/TARGETURL", ledger.QrFormat);
        var token = stack.Simulator.Ledger.CustomerToken(reference);
        Assert.Equal($"{stack.Simulator.BaseUrl}/qr-image/v1?token={token}", qr.GetProperty("url").GetString());
        using (var http = new HttpClient())
        using (var image = await http.GetAsync(qr.GetProperty("url").GetString()))
        {
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            Assert.StartsWith("image/", image.Content.Headers.ContentType!.MediaType);
        }

        await ApproveAsync(machine, reference);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        var captured = await machine.WaitForStateAsync(reference, "Captured");
        Assert.Equal("DKK", captured.Json.GetProperty("currency").GetString());

        ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal("200002", ledger.Msn);
        Assert.Equal(new Money("DKK", 1500), ledger.Amount);
        Assert.Equal((1500L, 1500L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.Single(Successful(ledger, "capture"));
    }

    [Fact]
    public async Task MobilePay_svg_QR_is_the_image_Vipps_serves_not_one_we_render()
    {
        using var machine = await stack.NewMachineAsync("mpsvg", merchantId: "mobilepaydk", currency: "DKK", qrFormat: "svg");
        var created = await machine.CreateSaleAsync([new SaleLine("water", "Vand 0.5 l", 1, 1500)], currency: "DKK");
        var qr = created.Json.GetProperty("qr");
        Assert.Equal("svg", qr.GetProperty("format").GetString());

        var token = stack.Simulator.Ledger.CustomerToken(created.Reference);
        using var http = new HttpClient();
        var vippsImage = await http.GetStringAsync($"{stack.Simulator.BaseUrl}/qr-image/v1?token={token}");
        Assert.Equal(vippsImage, qr.GetProperty("data").GetString());

        (await machine.CancelAsync(created.Reference)).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(created.Reference, "Cancelled");
    }

    private async Task ApproveAsync(MachineClient machine, string reference)
    {
        Assert.Null(stack.Simulator.Approve(reference));
        await machine.WaitForStateAsync(reference, "Authorized");
    }

    private static List<LedgerOperation> Successful(LedgerEntry ledger, string operation) =>
        ledger.Operations.Where(o => o.Operation == operation && o.Outcome == "ok" && !o.Replayed).ToList();

    private string BrandOf(LedgerEntry ledger) =>
        stack.Simulator.Options.Merchants.Values.Single(m => m.MerchantSerialNumber == ledger.Msn).Brand;

    /// <summary>The sale's events in the sink as a consumer applies them, once the one of <paramref name="lastType"/> is
    /// there (the outbox publishes after the transition). Delivery is at least once: a copy of an event (same id) must be
    /// identical to the first, and is dropped as a consumer drops it.</summary>
    private async Task<IReadOnlyList<JsonElement>> EventsAsync(string reference, string lastType)
    {
        IReadOnlyList<JsonElement> events = [];
        await ProductStack.WaitUntilAsync(
            () => (events = stack.Events(reference)).Any(e => e.GetProperty("type").GetString() == lastType),
            what: $"{lastType} for {reference} in the event sink");
        var first = new Dictionary<string, string>();
        var applied = new List<JsonElement>();
        foreach (var e in events)
        {
            var id = e.GetProperty("id").GetString()!;
            if (first.TryGetValue(id, out var earlier))
            {
                Assert.Equal(earlier, e.GetRawText());
                continue;
            }

            first[id] = e.GetRawText();
            applied.Add(e);
        }

        return applied;
    }
}
