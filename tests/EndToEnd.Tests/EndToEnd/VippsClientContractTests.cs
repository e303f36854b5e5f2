using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Vending.Testing;
using Vending.Vipps;
using Vending.Vipps.EPayment;
using Vending.Vipps.Webhooks;
using VippsSimulator.Hosting;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>The simulator on real Kestrel and our Vipps client wired exactly as the Function App wires it
/// (<c>AddVippsClient</c> over the merchants of <c>local.settings.sample.json</c>).</summary>
public sealed class VippsClientStack : IAsyncLifetime
{
    private ServiceProvider? _provider;

    public RunningSimulator Simulator { get; private set; } = null!;

    public IVippsEPaymentClient EPayment => _provider!.GetRequiredService<IVippsEPaymentClient>();

    public IVippsWebhooksClient Webhooks => _provider!.GetRequiredService<IVippsWebhooksClient>();

    public async Task InitializeAsync()
    {
        Simulator = await SimulatorApp.StartAsync(0, new Dictionary<string, string?>
        {
            ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
            ["Simulator:RateLimits:AdjustmentsPerMinute"] = "10000",
        });
        var root = Azurite.RepositoryRoot();
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root, "local.settings.sample.json")));
        var settings = document.RootElement.GetProperty("Values").EnumerateObject()
            .Where(p => p.Name.StartsWith("Vipps__", StringComparison.Ordinal))
            .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.GetString());
        settings["Vipps:BaseUrl"] = Simulator.BaseUrl;
        settings["Vipps:RetryBaseDelayMilliseconds"] = "50";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        _provider = new ServiceCollection().AddLogging().AddVippsClient(configuration).BuildServiceProvider(validateScopes: true);
    }

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await Simulator.DisposeAsync();
    }
}

/// <summary>
/// Contract of our Vipps client (functions/Vending.Vipps) against the strict simulator over real HTTP: every
/// operation the product uses, with the wire shapes each side expects, and Vipps' error codes surfacing typed.
/// </summary>
public sealed class VippsClientContractTests(VippsClientStack stack) : IClassFixture<VippsClientStack>
{
    private const string Vipps = "vippsno";
    private const string MobilePay = "mobilepaydk";

    private static string NewReference() => $"ct-{Guid.NewGuid():N}";

    private static CreatePaymentRequest Request(string reference, long value, string currency = "NOK", string qr = QrFormat.TargetUrl) => new(
        new Amount(currency, value),
        new PaymentMethod(),
        reference,
        UserFlow: "QR",
        PaymentDescription: "Contract test",
        QrFormat: new QrFormat(qr),
        Receipt: new Receipt(
            [new OrderLine("Cola 0.5 l", "cola", value, value * 4 / 5, value - value * 4 / 5, 2500, new UnitInfo(value, "1"))],
            new BottomLine(currency)));

    private async Task<string> AuthorizedPaymentAsync(long value)
    {
        var reference = NewReference();
        await stack.EPayment.CreatePaymentAsync(Vipps, Request(reference, value), IdempotencyKeys.For(reference, "create"), default);
        Assert.Null(stack.Simulator.Approve(reference));
        return reference;
    }

    [Fact]
    public async Task Create_get_and_events_of_a_TEXT_TARGETURL_payment()
    {
        var reference = NewReference();
        var created = await stack.EPayment.CreatePaymentAsync(Vipps, Request(reference, 2500), IdempotencyKeys.For(reference, "create"), default);
        Assert.Equal(reference, created.Reference);
        var token = stack.Simulator.Ledger.CustomerToken(reference);
        Assert.Equal($"{stack.Simulator.BaseUrl}/pay/{token}", created.RedirectUrl);

        var replay = await stack.EPayment.CreatePaymentAsync(Vipps, Request(reference, 2500), IdempotencyKeys.For(reference, "create"), default);
        Assert.Equal(created, replay);
        Assert.Single(stack.Simulator.Ledger.All(), p => p.Reference == reference);

        var details = await stack.EPayment.GetPaymentAsync(Vipps, reference, default);
        Assert.Equal((PaymentStates.Created, new Amount("NOK", 2500)), (details.State, details.Amount));
        Assert.Equal(0, details.Aggregate.AuthorizedAmount.Value);

        Assert.Null(stack.Simulator.Approve(reference));
        details = await stack.EPayment.GetPaymentAsync(Vipps, reference, default);
        Assert.Equal(PaymentStates.Authorized, details.State);
        Assert.Equal(new Amount("NOK", 2500), details.Aggregate.AuthorizedAmount);

        var events = await stack.EPayment.GetPaymentEventsAsync(Vipps, reference, default);
        Assert.Equal([PaymentEventNames.Created, PaymentEventNames.Authorized], events.Select(e => e.Name));
        Assert.All(events, e => Assert.True(e.Success));
        Assert.Equal(2500, events[1].Amount.Value);
        Assert.NotEqual(events[0].PspReference, events[1].PspReference);
    }

    [Fact]
    public async Task MobilePay_payment_gets_a_QR_image_link_in_DKK()
    {
        var reference = NewReference();
        var created = await stack.EPayment.CreatePaymentAsync(MobilePay, Request(reference, 1500, "DKK", QrFormat.Svg), IdempotencyKeys.For(reference, "create"), default);
        var token = stack.Simulator.Ledger.CustomerToken(reference, "200002");
        Assert.Equal($"{stack.Simulator.BaseUrl}/qr-image/v1?token={token}", created.RedirectUrl);
        Assert.Equal("200002", stack.Simulator.Ledger.Find(reference)!.Msn);

        // Not approved for TEXT/TARGETURL: Vipps refuses, and the refusal is a typed, permanent 400.
        var other = NewReference();
        var refused = await Assert.ThrowsAsync<VippsApiException>(() =>
            stack.EPayment.CreatePaymentAsync(MobilePay, Request(other, 1500, "DKK", QrFormat.TargetUrl), IdempotencyKeys.For(other, "create"), default));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.False(refused.IsTransient);
    }

    [Fact]
    public async Task Capture_refund_and_cancel_move_the_aggregate_and_replay_by_idempotency_key()
    {
        var reference = await AuthorizedPaymentAsync(5000);

        var captured = await stack.EPayment.CaptureAsync(Vipps, reference, new Amount("NOK", 3000), IdempotencyKeys.For(reference, "capture1"), default);
        Assert.Equal(new Amount("NOK", 3000), captured.Aggregate.CapturedAmount);
        var again = await stack.EPayment.CaptureAsync(Vipps, reference, new Amount("NOK", 3000), IdempotencyKeys.For(reference, "capture1"), default);
        Assert.Equal(captured.Aggregate, again.Aggregate);
        Assert.Equal(3000, stack.Simulator.Ledger.Find(reference)!.Captured);

        var refunded = await stack.EPayment.RefundAsync(Vipps, reference, new Amount("NOK", 1000), IdempotencyKeys.For(reference, "refund2"), default);
        Assert.Equal(new Amount("NOK", 1000), refunded.Aggregate.RefundedAmount);

        var released = await stack.EPayment.CancelAsync(Vipps, reference, cancelTransactionOnly: false, IdempotencyKeys.For(reference, "release3"), default);
        Assert.Equal(new Amount("NOK", 2000), released.Aggregate.CancelledAmount);

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((5000L, 3000L, 2000L, 1000L), (ledger.Authorized, ledger.Captured, ledger.Cancelled, ledger.Refunded));
        Assert.Single(ledger.Operations, o => o.Operation == "capture" && !o.Replayed);
        Assert.Single(ledger.Operations, o => o.Operation == "capture" && o.Replayed);

        var events = await stack.EPayment.GetPaymentEventsAsync(Vipps, reference, default);
        Assert.Equal(
            [PaymentEventNames.Created, PaymentEventNames.Authorized, PaymentEventNames.Captured, PaymentEventNames.Refunded, PaymentEventNames.Cancelled],
            events.Select(e => e.Name));
        Assert.Equal(IdempotencyKeys.For(reference, "capture1"), events[2].IdempotencyKey);
    }

    [Fact]
    public async Task Cancel_of_a_created_payment_terminates_it_and_cancelTransactionOnly_spares_an_authorized_one()
    {
        var created = NewReference();
        await stack.EPayment.CreatePaymentAsync(Vipps, Request(created, 1200), IdempotencyKeys.For(created, "create"), default);
        var terminated = await stack.EPayment.CancelAsync(Vipps, created, cancelTransactionOnly: true, IdempotencyKeys.For(created, "terminate1"), default);
        Assert.Equal(PaymentStates.Terminated, terminated.State);

        var authorized = await AuthorizedPaymentAsync(1300);
        var refused = await Assert.ThrowsAsync<VippsApiException>(() =>
            stack.EPayment.CancelAsync(Vipps, authorized, cancelTransactionOnly: true, IdempotencyKeys.For(authorized, "terminate1"), default));
        Assert.Equal(6060, refused.ErrorCode);
        Assert.Equal(0, stack.Simulator.Ledger.Find(authorized)!.Cancelled);
    }

    [Fact]
    public async Task Vipps_error_codes_surface_typed_and_permanent()
    {
        var reference = await AuthorizedPaymentAsync(2000);

        var tooMuch = await Assert.ThrowsAsync<VippsApiException>(() =>
            stack.EPayment.CaptureAsync(Vipps, reference, new Amount("NOK", 2001), IdempotencyKeys.For(reference, "capture1"), default));
        Assert.Equal((HttpStatusCode.BadRequest, 6090, false), (tooMuch.StatusCode, tooMuch.ErrorCode, tooMuch.IsTransient));

        var refundBeforeCapture = await Assert.ThrowsAsync<VippsApiException>(() =>
            stack.EPayment.RefundAsync(Vipps, reference, new Amount("NOK", 100), IdempotencyKeys.For(reference, "refund2"), default));
        Assert.Equal(6020, refundBeforeCapture.ErrorCode);

        var notAuthorized = NewReference();
        await stack.EPayment.CreatePaymentAsync(Vipps, Request(notAuthorized, 900), IdempotencyKeys.For(notAuthorized, "create"), default);
        var early = await Assert.ThrowsAsync<VippsApiException>(() =>
            stack.EPayment.CaptureAsync(Vipps, notAuthorized, new Amount("NOK", 900), IdempotencyKeys.For(notAuthorized, "capture1"), default));
        Assert.Equal(6080, early.ErrorCode);

        var unknown = await Assert.ThrowsAsync<VippsApiException>(() => stack.EPayment.GetPaymentAsync(Vipps, NewReference(), default));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.False(unknown.IsTransient);

        var belowMinimum = NewReference();
        var tooSmall = await Assert.ThrowsAsync<VippsApiException>(() =>
            stack.EPayment.CreatePaymentAsync(Vipps, Request(belowMinimum, 99), IdempotencyKeys.For(belowMinimum, "create"), default));
        Assert.Equal(6010, tooSmall.ErrorCode);

        Assert.Equal(0, stack.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Transient_failures_are_retried_with_the_same_key_and_exhausted_retries_surface_transient()
    {
        var reference = await AuthorizedPaymentAsync(2200);
        stack.Simulator.Faults.FailNext("capture", reference, count: 1, status: 503, kind: VippsSimulator.Faults.FaultKind.ResponseLost);
        var captured = await stack.EPayment.CaptureAsync(Vipps, reference, new Amount("NOK", 2200), IdempotencyKeys.For(reference, "capture1"), default);
        Assert.Equal(2200, captured.Aggregate.CapturedAmount.Value);
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(2200, ledger.Captured);
        Assert.Equal([false, true], ledger.Operations.Where(o => o.Operation == "capture").Select(o => o.Replayed));

        stack.Simulator.Faults.FailNext("get", reference, count: 10, status: 500);
        var down = await Assert.ThrowsAsync<VippsApiException>(() => stack.EPayment.GetPaymentAsync(Vipps, reference, default));
        Assert.True(down.IsTransient);
        Assert.Equal(HttpStatusCode.InternalServerError, down.StatusCode);
        stack.Simulator.Faults.Reset();
    }

    [Fact]
    public async Task Webhooks_register_list_and_delete_per_merchant()
    {
        var url = $"http://127.0.0.1:9/contract/{Guid.NewGuid():N}";
        var registration = await stack.Webhooks.RegisterAsync(MobilePay, url, WebhookEventTypes.All, default);
        Assert.False(string.IsNullOrEmpty(registration.Secret));

        var listed = Assert.Single(await stack.Webhooks.ListAsync(MobilePay, default), w => w.Url == url);
        Assert.Equal(registration.Id, listed.Id);
        Assert.Equal(WebhookEventTypes.All.Order(), listed.Events.Order());
        Assert.DoesNotContain(await stack.Webhooks.ListAsync(Vipps, default), w => w.Url == url);

        await stack.Webhooks.DeleteAsync(MobilePay, registration.Id, default);
        Assert.DoesNotContain(await stack.Webhooks.ListAsync(MobilePay, default), w => w.Url == url);
        var gone = await Assert.ThrowsAsync<VippsApiException>(() => stack.Webhooks.DeleteAsync(MobilePay, registration.Id, default));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var refused = await Assert.ThrowsAsync<VippsApiException>(() => stack.Webhooks.RegisterAsync(Vipps, url, ["epayments.payment.nonsense.v1"], default));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task Signed_webhook_from_the_simulator_verifies_with_the_registration_secret()
    {
        // A receiver of our own on loopback: the simulator delivers there, our verifier checks the signature.
        await using var receiver = await LoopbackWebhookReceiver.StartAsync();
        var registration = await stack.Webhooks.RegisterAsync(Vipps, receiver.Url, [WebhookEventTypes.Created], default);
        try
        {
            var reference = NewReference();
            await stack.EPayment.CreatePaymentAsync(Vipps, Request(reference, 1100), IdempotencyKeys.For(reference, "create"), default);
            var delivery = await ProductStack.WaitForAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(r => r.Body.Contains(reference, StringComparison.Ordinal))),
                what: "the CREATED webhook reached the receiver");

            var result = WebhookSignature.Verify(registration.Secret, new Uri(receiver.Url), delivery.Date, delivery.ContentHash, delivery.Authorization,
                System.Text.Encoding.UTF8.GetBytes(delivery.Body), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
            Assert.Equal(WebhookSignatureResult.Valid, result);
            var wrong = WebhookSignature.Verify("not-the-secret", new Uri(receiver.Url), delivery.Date, delivery.ContentHash, delivery.Authorization,
                System.Text.Encoding.UTF8.GetBytes(delivery.Body), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
            Assert.NotEqual(WebhookSignatureResult.Valid, wrong);

            var body = JsonSerializer.Deserialize<Vending.Vipps.EPayment.PaymentEvent>(delivery.Body, VippsJson.Options)!;
            Assert.Equal(("100001", reference, PaymentEventNames.Created, 1100L), (body.Msn, body.Reference, body.Name, body.Amount.Value));
        }
        finally
        {
            await stack.Webhooks.DeleteAsync(Vipps, registration.Id, default);
        }
    }
}

/// <summary>A minimal webhook receiver on real Kestrel: keeps every request's signature headers and body, answers 200.</summary>
internal sealed class LoopbackWebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackWebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public System.Collections.Concurrent.ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public static async Task<LoopbackWebhookReceiver> StartAsync()
    {
        var port = Azurite.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new LoopbackWebhookReceiver(app, $"http://127.0.0.1:{port}/hooks/vipps?tenant=e2e");
        app.MapPost("/hooks/vipps", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            receiver.Received.Enqueue(new ReceivedWebhook(
                request.Headers[WebhookSignature.DateHeader].ToString(),
                request.Headers[WebhookSignature.ContentHashHeader].ToString(),
                request.Headers[WebhookSignature.AuthorizationHeader].ToString(),
                await reader.ReadToEndAsync()));
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedWebhook(string Date, string ContentHash, string Authorization, string Body);
