using System.Net;
using Moq;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Storage;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Tests.Service;

[Collection(nameof(AzuriteCollection))]
public class SaleServiceTests(AzuriteFixture azurite)
{
    private readonly CoreHarness _core = new(azurite);

    [Fact]
    public async Task Create_asks_Vipps_for_a_customer_present_QR_payment_with_a_receipt()
    {
        var machine = CoreHarness.Machine();
        CreatePaymentRequest? sent = null;
        string? key = null;
        _core.Vipps.Setup(v => v.CreatePaymentAsync("vippsno", It.IsAny<CreatePaymentRequest>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback((string _, CreatePaymentRequest request, string idempotencyKey, CancellationToken _) => (sent, key) = (request, idempotencyKey))
            .ReturnsAsync(new CreatePaymentResponse("x", CoreHarness.ImageLink));

        var result = await _core.Service.CreateAsync(machine, CoreHarness.Request(), default);

        Assert.True(result.Created);
        Assert.Equal(SaleState.Created, result.Sale.State);
        Assert.Equal(8000, result.Sale.Amount);
        Assert.NotNull(sent);
        Assert.Equal((result.Sale.Reference, "QR", "CUSTOMER_PRESENT"), (sent.Reference, sent.UserFlow, sent.CustomerInteraction));
        Assert.Equal(new Amount("NOK", 8000), sent.Amount);
        Assert.Matches("^[a-zA-Z0-9-]{8,64}$", sent.Reference);
        Assert.Equal(IdempotencyKeys.For(result.Sale.Reference, "create"), key);
        Assert.Equal(QrFormat.Svg, sent.QrFormat!.Format);
        Assert.Equal(machine.MachineId, sent.Receipt!.BottomLine.PosId);
        var cola = sent.Receipt.OrderLines.Single(line => line.Id == "cola");
        Assert.Equal((5000L, 4000L, 1000L, 2500), (cola.TotalAmount, cola.TotalAmountExcludingTax, cola.TotalTaxAmount, cola.TaxRate));
        Assert.InRange(sent.PaymentDescription!.Length, 3, 100);
    }

    [Fact]
    public async Task A_Vipps_image_QR_is_handed_over_as_fetched_never_re_encoded()
    {
        var result = await _core.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(), default);

        Assert.Equal("svg", result.Sale.Qr!.Format);
        Assert.Equal("<svg>vipps</svg>", result.Sale.Qr.Data);
        Assert.Equal(CoreHarness.ImageLink, result.Sale.Qr.Url);
        _core.Images.Verify(i => i.FetchAsync(new Uri(CoreHarness.ImageLink), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_machine_asking_for_a_url_gets_the_Vipps_image_link()
    {
        var result = await _core.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(qr: new QrRequest("url", null)), default);

        Assert.Equal(new SaleQr("url", null, null, CoreHarness.ImageLink), result.Sale.Qr);
        _core.Images.Verify(i => i.FetchAsync(It.IsAny<Uri>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_target_url_merchant_gets_our_own_QR_of_the_target_url()
    {
        CreatePaymentRequest? sent = null;
        _core.Vipps.Setup(v => v.CreatePaymentAsync("mobilepaydk", It.IsAny<CreatePaymentRequest>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback((string _, CreatePaymentRequest request, string _, CancellationToken _) => sent = request)
            .ReturnsAsync(new CreatePaymentResponse("x", CoreHarness.TargetUrl));

        var result = await _core.Service.CreateAsync(CoreHarness.Machine("mobilepaydk", "DKK"),
            CoreHarness.Request(currency: "DKK", qr: new QrRequest("png", 300)), default);

        Assert.Equal(QrFormat.TargetUrl, sent!.QrFormat!.Format);
        Assert.Equal(("png", "image/png", null), (result.Sale.Qr!.Format, result.Sale.Qr.ContentType, result.Sale.Qr.Url));
        var png = Convert.FromBase64String(result.Sale.Qr.Data!);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        _core.Images.Verify(i => i.FetchAsync(It.IsAny<Uri>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task The_same_machine_sale_id_again_is_a_replay_not_a_second_payment()
    {
        var machine = CoreHarness.Machine();
        var first = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-9"), default);

        var again = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-9") with { Lines = [] }, default);

        Assert.False(again.Created);
        Assert.Equal(first.Sale.Reference, again.Sale.Reference);
        _core.Vipps.Verify(v => v.CreatePaymentAsync(It.IsAny<string>(), It.IsAny<CreatePaymentRequest>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_second_sale_while_one_is_open_is_refused_and_allowed_once_it_ended()
    {
        var machine = CoreHarness.Machine();
        var first = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);

        var refused = await Assert.ThrowsAsync<SaleException>(() => _core.Service.CreateAsync(machine, CoreHarness.Request("s-2"), default));
        Assert.Equal((RefusalKind.Conflict, "open_sale_exists"), (refused.Kind, refused.Code));

        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(first.Sale.Reference, "ABORTED"), default);
        var second = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-2"), default);
        Assert.True(second.Created);
    }

    [Fact]
    public async Task A_machine_that_reported_its_vend_may_sell_again_while_the_capture_is_still_pending()
    {
        var machine = CoreHarness.Machine();
        var first = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(first.Sale.Reference, "AUTHORIZED"), default);

        // Authorized: the machine still has to dispense and report, so it may not start another sale.
        var refused = await Assert.ThrowsAsync<SaleException>(() => _core.Service.CreateAsync(machine, CoreHarness.Request("s-2"), default));
        Assert.Equal((RefusalKind.Conflict, "open_sale_exists"), (refused.Kind, refused.Code));

        var vend = await _core.Service.ReportVendAsync(machine.MachineId, first.Sale.Reference, new VendReport(VendOutcome.Delivered, null), default);
        Assert.Equal(SaleState.Settling, vend.State);

        // The capture is ours to finish (it may wait out a Vipps outage); the machine is free.
        var second = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-2"), default);
        Assert.True(second.Created);
    }

    public static TheoryData<string, CreateSaleRequest, string, string?> BadRequests() => new()
    {
        { "bad id", CoreHarness.Request("has space"), "invalid_machine_sale_id", "machineSaleId" },
        { "currency", CoreHarness.Request(currency: "DKK"), "currency_mismatch", "currency" },
        { "no lines", CoreHarness.Request() with { Lines = [] }, "invalid_lines", "lines" },
        { "21 lines", CoreHarness.Request() with { Lines = Enumerable.Range(0, 21).Select(i => new SaleLineRequest($"p{i}", "P", 1, 100, 0)).ToList() }, "invalid_lines", "lines" },
        { "quantity 0", CoreHarness.Request() with { Lines = [new("a", "A", 0, 500, 0)] }, "invalid_quantity", "lines[0].quantity" },
        { "quantity 101", CoreHarness.Request() with { Lines = [new("a", "A", 101, 500, 0)] }, "invalid_quantity", "lines[0].quantity" },
        { "free", CoreHarness.Request() with { Lines = [new("a", "A", 1, 0, 0)] }, "invalid_unit_price", "lines[0].unitPrice" },
        { "tax", CoreHarness.Request() with { Lines = [new("a", "A", 1, 500, 10001)] }, "invalid_tax_rate", "lines[0].taxRate" },
        { "overflow", CoreHarness.Request() with { Lines = [new("a", "A", 2, long.MaxValue / 2 + 1, 0)] }, "amount_out_of_range", "lines" },
        { "sum overflow", CoreHarness.Request() with { Lines = [new("a", "A", 1, long.MaxValue, 0), new("b", "B", 1, long.MaxValue, 0)] }, "amount_out_of_range", "lines" },
        { "too much", CoreHarness.Request() with { Lines = [new("a", "A", 1, 65_000_001, 0)] }, "amount_out_of_range", "lines" },
        { "too little", CoreHarness.Request() with { Lines = [new("a", "A", 1, 99, 0)] }, "amount_below_minimum", "lines" },
        { "same product", CoreHarness.Request() with { Lines = [new("a", "A", 1, 500, 0), new("a", "A", 1, 500, 0)] }, "duplicate_product", "lines[1].productId" },
        { "no name", CoreHarness.Request() with { Lines = [new("a", " ", 1, 500, 0)] }, "invalid_line_name", "lines[0].name" },
        { "qr format", CoreHarness.Request(qr: new QrRequest("gif", null)), "invalid_qr_format", "qr.format" },
        { "qr size", CoreHarness.Request(qr: new QrRequest("png", 99)), "invalid_qr_size", "qr.size" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_create_is_refused_with_its_code_and_changes_nothing(string _, CreateSaleRequest request, string code, string? field)
    {
        var machine = CoreHarness.Machine();

        var refused = await Assert.ThrowsAsync<SaleException>(() => _core.Service.CreateAsync(machine, request, default));

        Assert.Equal((RefusalKind.Invalid, code, field), (refused.Kind, refused.Code, refused.Field));
        _core.Vipps.VerifyNoOtherCalls();
        // Nothing claimed: a valid create with the same id is a new sale.
        Assert.True((await _core.Service.CreateAsync(machine, CoreHarness.Request("ok-1"), default)).Created);
    }

    [Fact]
    public async Task Vipps_refusing_the_payment_fails_the_sale_with_the_code()
    {
        _core.Vipps.Setup(v => v.CreatePaymentAsync(It.IsAny<string>(), It.IsAny<CreatePaymentRequest>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadRequest, 6010, "Amount too small"));
        var machine = CoreHarness.Machine();

        var result = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);
        var replay = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);

        Assert.Equal((SaleState.Failed, "vipps_6010"), (result.Sale.State, result.Sale.FailureCode));
        Assert.Equal(SaleState.Failed, replay.Sale.State);
        _core.Vipps.Verify(v => v.CreatePaymentAsync(It.IsAny<string>(), It.IsAny<CreatePaymentRequest>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        // A failed create is over: the machine may start another sale.
        Assert.True((await _core.Service.CreateAsync(machine, CoreHarness.Request("s-2"), default)).Created);
    }

    [Fact]
    public async Task Vipps_unavailable_answers_503_and_a_retry_of_the_same_sale_id_sends_the_same_key()
    {
        var keys = new List<string>();
        _core.Vipps.SetupSequence(v => v.CreatePaymentAsync(It.IsAny<string>(), It.IsAny<CreatePaymentRequest>(), Capture.In(keys), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.ServiceUnavailable, null, "down"))
            .ReturnsAsync(new CreatePaymentResponse("x", CoreHarness.ImageLink));
        var machine = CoreHarness.Machine();

        var unavailable = await Assert.ThrowsAsync<SaleException>(() => _core.Service.CreateAsync(machine, CoreHarness.Request("s-1"), default));
        var retry = await _core.Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);

        Assert.Equal((RefusalKind.ProviderUnavailable, "vipps_unavailable"), (unavailable.Kind, unavailable.Code));
        Assert.Equal(SaleState.Created, retry.Sale.State);
        Assert.NotNull(retry.Sale.Qr);
        Assert.Equal(2, keys.Count);
        Assert.Equal(keys[0], keys[1]);
    }

    [Fact]
    public async Task A_delivered_sale_is_captured_through_the_command_queue()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;

        Assert.Equal(WebhookOutcome.Applied, await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(sale.Reference, "AUTHORIZED"), default));
        Assert.Equal(WebhookOutcome.Duplicate, await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(sale.Reference, "AUTHORIZED"), default));
        var vend = await _core.Service.ReportVendAsync(machine.MachineId, sale.Reference, new VendReport(VendOutcome.Delivered, null), default);
        Assert.Equal(SaleState.Settling, vend.State);
        var command = Assert.Single(_core.Queue.Sent).Command;
        Assert.Equal(("capture", 8000L), (command.Kind, command.Amount));

        await _core.RunCommandsAsync();

        var done = await _core.Service.GetAsync(machine.MachineId, sale.Reference, default);
        Assert.Equal((SaleState.Captured, 8000L), (done!.State, done.CapturedAmount));
        _core.Vipps.Verify(v => v.CaptureAsync("vippsno", sale.Reference, new Amount("NOK", 8000), IdempotencyKeys.For(sale.Reference, "capture1"), It.IsAny<CancellationToken>()), Times.Once);
        var history = await _core.Service.GetHistoryAsync(sale.Reference, default);
        Assert.Equal(["sale_created", "payment_created", "vipps_authorized", "vend_reported", "command_succeeded"], history.Select(entry => entry.Type));
    }

    [Fact]
    public async Task A_sale_is_not_found_for_another_machine()
    {
        var sale = (await _core.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(), default)).Sale;
        var other = CoreHarness.Machine();

        Assert.Null(await _core.Service.GetAsync(other.MachineId, sale.Reference, default));
        Assert.Null(await _core.Service.WaitForChangeAsync(other.MachineId, sale.Reference, SaleState.Created, TimeSpan.FromSeconds(5), default));
        var refused = await Assert.ThrowsAsync<SaleException>(() => _core.Service.CancelAsync(other.MachineId, sale.Reference, default));
        Assert.Equal((RefusalKind.NotFound, "sale_not_found"), (refused.Kind, refused.Code));
        Assert.Equal(SaleState.Created, (await _core.SaleAsync(sale.Reference)).State);
    }

    [Fact]
    public async Task A_webhook_for_an_unknown_reference_is_recorded_without_effect()
    {
        var outcome = await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event("nobody-knows-this", "AUTHORIZED"), default);

        Assert.Equal(WebhookOutcome.UnknownReference, outcome);
        var row = azurite.Table(TableNames.UnmatchedWebhooks).Query<Azure.Data.Tables.TableEntity>(entity => entity.PartitionKey == "vippsno").Single(entity => entity.GetString("Reference") == "nobody-knows-this");
        Assert.Equal("AUTHORIZED", row.GetString("EventName"));
    }

    [Fact]
    public async Task A_long_poll_wakes_when_a_webhook_changes_the_sale()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;

        var waiting = _core.Service.WaitForChangeAsync(machine.MachineId, sale.Reference, SaleState.Created, TimeSpan.FromSeconds(25), default);
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(sale.Reference, "AUTHORIZED"), default);
        var changed = await waiting;

        Assert.Equal(SaleState.Authorized, changed!.State);
    }

    [Fact]
    public async Task A_long_poll_answers_at_once_when_the_state_already_differs()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;

        var view = await _core.Service.WaitForChangeAsync(machine.MachineId, sale.Reference, SaleState.Authorized, TimeSpan.FromSeconds(25), default);

        Assert.Equal(SaleState.Created, view!.State);
        _core.Vipps.Verify(v => v.GetPaymentEventsAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_long_poll_past_five_seconds_finds_a_lost_webhook_in_the_Vipps_event_log()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;
        _core.Vipps.Setup(v => v.GetPaymentEventsAsync("vippsno", sale.Reference, It.IsAny<CancellationToken>()))
            .ReturnsAsync([CoreHarness.Event(sale.Reference, "CREATED"), CoreHarness.Event(sale.Reference, "AUTHORIZED")]);
        _core.Time.Advance(TimeSpan.FromSeconds(6));

        var view = await _core.Service.WaitForChangeAsync(machine.MachineId, sale.Reference, SaleState.Created, TimeSpan.FromSeconds(25), default);

        Assert.Equal(SaleState.Authorized, view!.State);
        // The webhook arriving after the poll is the same event: absorbed.
        Assert.Equal(WebhookOutcome.Duplicate, await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(sale.Reference, "AUTHORIZED"), default));
    }

    [Fact]
    public async Task A_vend_report_before_authorization_is_refused()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;

        var refused = await Assert.ThrowsAsync<SaleException>(() =>
            _core.Service.ReportVendAsync(machine.MachineId, sale.Reference, new VendReport(VendOutcome.Delivered, null), default));

        Assert.Equal((RefusalKind.Conflict, "sale_not_authorized"), (refused.Kind, refused.Code));
        Assert.Empty(_core.Queue.Sent);
    }

    [Fact]
    public async Task An_operator_refund_is_sent_once_per_request_id()
    {
        var machine = CoreHarness.Machine();
        var sale = (await _core.Service.CreateAsync(machine, CoreHarness.Request(), default)).Sale;
        await _core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(sale.Reference, "AUTHORIZED"), default);
        await _core.Service.ReportVendAsync(machine.MachineId, sale.Reference, new VendReport(VendOutcome.Delivered, null), default);
        await _core.RunCommandsAsync();
        ISaleOperatorService operators = _core.Service;

        await operators.RefundAsync(sale.Reference, 3000, "r-1", default);
        await operators.RefundAsync(sale.Reference, 3000, "r-1", default);
        await _core.RunCommandsAsync();

        var done = await operators.GetAsync(sale.Reference, default);
        Assert.Equal((SaleState.Captured, 3000L), (done!.State, done.RefundedAmount));
        _core.Vipps.Verify(v => v.RefundAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        var tooMuch = await Assert.ThrowsAsync<SaleException>(() => operators.RefundAsync(sale.Reference, 5001, "r-2", default));
        Assert.Equal("refund_exceeds_captured", tooMuch.Code);
    }
}
