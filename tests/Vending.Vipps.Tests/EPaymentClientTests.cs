using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vending.Vipps.EPayment;
using Vending.Vipps.Tests.Support;

namespace Vending.Vipps.Tests;

public sealed class EPaymentClientTests : IDisposable
{
    private const string Reference = "vm17-000123";
    private const string ModificationJson =
        """{"amount":{"currency":"NOK","value":2500},"state":"AUTHORIZED","aggregate":{"authorizedAmount":{"currency":"NOK","value":2500},"cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":2500},"refundedAmount":{"currency":"NOK","value":0}},"pspReference":"psp-1","reference":"vm17-000123"}""";

    private readonly VippsTestContext context = new();

    public void Dispose() => context.Dispose();

    public static CreatePaymentRequest SampleCreateRequest() => new(
        Amount: new Amount("NOK", 2500),
        PaymentMethod: new PaymentMethod(),
        Reference: Reference,
        UserFlow: "QR",
        CustomerInteraction: "CUSTOMER_PRESENT",
        PaymentDescription: "Cola 0.5 l",
        QrFormat: new QrFormat(QrFormat.Svg),
        Receipt: new Receipt(
            [new OrderLine("Cola 0.5 l", "cola-05", 2500, 2000, 500, 2500, new UnitInfo(2500, "1"))],
            new BottomLine("NOK", PosId: "vm17")));

    [Fact]
    public async Task Create_fetches_a_token_with_the_merchant_credentials_and_sends_every_header()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.Created, """{"reference":"vm17-000123","redirectUrl":"https://qr-image.vipps.no/v1?token=abc"}"""));

        var created = await context.EPayment.CreatePaymentAsync(VippsTestContext.Norway, SampleCreateRequest(), "vm17-000123-create", CancellationToken.None);

        Assert.Equal(new CreatePaymentResponse(Reference, "https://qr-image.vipps.no/v1?token=abc"), created);

        var token = Assert.Single(context.Handler.TokenRequests);
        Assert.Equal(HttpMethod.Post, token.Method);
        Assert.Equal("client-no", token.Header("client_id"));
        Assert.Equal("secret-no", token.Header("client_secret"));
        Assert.Equal("subscription-no", token.Header("Ocp-Apim-Subscription-Key"));
        Assert.Equal("123456", token.Header("Merchant-Serial-Number"));
        Assert.Equal("", token.Body);

        var call = Assert.Single(context.Handler.ApiRequests);
        Assert.Equal(HttpMethod.Post, call.Method);
        Assert.Equal("/epayment/v1/payments", call.PathAndQuery);
        Assert.Equal("vm17-000123-create", call.Header("Idempotency-Key"));
        Assert.StartsWith("application/json", call.Header("Content-Type"));
        AssertCommonHeaders(call, token: "token-1", subscriptionKey: "subscription-no", msn: "123456");
    }

    public static TheoryData<string, string, string, bool> Operations() => new()
    {
        // operation, method, path, carries an idempotency key
        { "get", "GET", "/epayment/v1/payments/vm17-000123", false },
        { "events", "GET", "/epayment/v1/payments/vm17-000123/events", false },
        { "capture", "POST", "/epayment/v1/payments/vm17-000123/capture", true },
        { "cancel", "POST", "/epayment/v1/payments/vm17-000123/cancel", true },
        { "refund", "POST", "/epayment/v1/payments/vm17-000123/refund", true },
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Every_operation_sends_the_common_headers_and_its_idempotency_key(string operation, string method, string path, bool hasKey)
    {
        context.Handler.Api = (request, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, request.PathAndQuery.EndsWith("/events", StringComparison.Ordinal) ? "[]" : ModificationJson));

        await Invoke(context.EPayment, operation, VippsTestContext.Denmark);

        var call = Assert.Single(context.Handler.ApiRequests);
        Assert.Equal(method, call.Method.Method);
        Assert.Equal(path, call.PathAndQuery);
        AssertCommonHeaders(call, token: "token-1", subscriptionKey: "subscription-dk", msn: "654321");
        Assert.Equal(hasKey ? $"key-{operation}" : null, call.Header("Idempotency-Key"));
    }

    [Fact]
    public void Create_request_serializes_camelCase_without_nulls_as_the_spec_names_the_fields()
    {
        var json = JsonSerializer.Serialize(SampleCreateRequest(), VippsJson.Options);

        var expected = JsonNode.Parse("""
            {
              "amount": { "currency": "NOK", "value": 2500 },
              "paymentMethod": { "type": "WALLET" },
              "reference": "vm17-000123",
              "userFlow": "QR",
              "customerInteraction": "CUSTOMER_PRESENT",
              "paymentDescription": "Cola 0.5 l",
              "qrFormat": { "format": "IMAGE/SVG+XML" },
              "receipt": {
                "orderLines": [
                  {
                    "name": "Cola 0.5 l", "id": "cola-05",
                    "totalAmount": 2500, "totalAmountExcludingTax": 2000, "totalTaxAmount": 500, "taxRate": 2500,
                    "unitInfo": { "unitPrice": 2500, "quantity": "1", "quantityUnit": "PCS" }
                  }
                ],
                "bottomLine": { "currency": "NOK", "posId": "vm17" }
              }
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(json)), json);
    }

    [Fact]
    public async Task Create_puts_the_serialized_request_on_the_wire()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.Created, """{"reference":"vm17-000123","redirectUrl":"https://qr"}"""));

        await context.EPayment.CreatePaymentAsync(VippsTestContext.Norway, SampleCreateRequest(), "k", CancellationToken.None);

        var body = Assert.Single(context.Handler.ApiRequests).Body;
        Assert.True(JsonNode.DeepEquals(JsonSerializer.SerializeToNode(SampleCreateRequest(), VippsJson.Options), JsonNode.Parse(body)), body);
        Assert.DoesNotContain("null", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capture_refund_and_cancel_send_the_documented_bodies()
    {
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, ModificationJson));
        var amount = new Amount("NOK", 2500);

        await context.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, amount, "k1", CancellationToken.None);
        await context.EPayment.RefundAsync(VippsTestContext.Norway, Reference, amount, "k2", CancellationToken.None);
        await context.EPayment.CancelAsync(VippsTestContext.Norway, Reference, cancelTransactionOnly: true, "k3", CancellationToken.None);
        await context.EPayment.CancelAsync(VippsTestContext.Norway, Reference, cancelTransactionOnly: false, "k4", CancellationToken.None);

        var bodies = context.Handler.ApiRequests.Select(r => JsonNode.Parse(r.Body)).ToList();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"modificationAmount":{"currency":"NOK","value":2500}}"""), bodies[0]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"modificationAmount":{"currency":"NOK","value":2500}}"""), bodies[1]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"cancelTransactionOnly":true}"""), bodies[2]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"cancelTransactionOnly":false}"""), bodies[3]));
    }

    [Fact]
    public async Task Modification_response_is_read_even_when_labelled_problem_json()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.OK, ModificationJson, "application/problem+json"));

        var captured = await context.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 2500), "k", CancellationToken.None);

        Assert.Equal(2500, captured.Aggregate.CapturedAmount.Value);
        Assert.Equal(PaymentStates.Authorized, captured.State);
    }

    [Fact]
    public async Task Get_payment_tolerates_fields_we_do_not_model()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.OK, """
            {"aggregate":{"authorizedAmount":{"currency":"NOK","value":2500},"cancelledAmount":{"currency":"NOK","value":0},
             "capturedAmount":{"currency":"NOK","value":0},"refundedAmount":{"currency":"NOK","value":0}},
             "amount":{"currency":"NOK","value":2500},"state":"AUTHORIZED","paymentMethod":{"type":"WALLET","cardBin":"540185"},
             "profile":{},"pspReference":"psp-created","reference":"vm17-000123","redirectUrl":"https://qr",
             "captureGuaranteedUntil":"2026-05-26T10:00:00Z"}
            """));

        var payment = await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal(PaymentStates.Authorized, payment.State);
        Assert.Equal(2500, payment.Aggregate.AuthorizedAmount.Value);
        Assert.Equal("psp-created", payment.PspReference);
    }

    [Fact]
    public async Task Event_log_timestamps_with_3_or_7_fraction_digits_parse()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.OK, """
            [{"reference":"vm17-000123","pspReference":"p1","name":"CREATED","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-27T10:00:00.123Z","idempotencyKey":"vm17-000123-create","success":true},
             {"reference":"vm17-000123","pspReference":"p2","name":"AUTHORIZED","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-27T10:00:30.1234567Z","idempotencyKey":null,"success":true}]
            """));

        var events = await context.EPayment.GetPaymentEventsAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal([PaymentEventNames.Created, PaymentEventNames.Authorized], events.Select(e => e.Name));
        Assert.Equal(new DateTimeOffset(2025, 11, 27, 10, 0, 30, TimeSpan.Zero).AddTicks(1234567), events[1].Timestamp);
        Assert.Null(events[1].IdempotencyKey);
    }

    [Fact]
    public void A_webhook_body_reads_with_the_shared_json_options()
    {
        var body = """{"msn":"123456","reference":"vm17-000123","pspReference":"p9","name":"CAPTURED","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-27T10:01:00.1234567Z","idempotencyKey":"vm17-000123-capture","success":true}""";

        var paymentEvent = JsonSerializer.Deserialize<PaymentEvent>(body, VippsJson.Options)!;

        Assert.Equal("123456", paymentEvent.Msn);
        Assert.Equal(PaymentEventNames.Captured, paymentEvent.Name);
        Assert.Equal(2500, paymentEvent.Amount.Value);
    }

    [Fact]
    public async Task An_unknown_merchant_is_a_programming_error_not_a_call()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => context.EPayment.GetPaymentAsync("nobody", Reference, CancellationToken.None));

        Assert.Empty(context.Handler.Requests);
    }

    [Fact]
    public async Task An_idempotency_key_over_50_characters_is_refused_before_sending()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            context.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 1), new string('k', 51), CancellationToken.None));

        Assert.Empty(context.Handler.ApiRequests);
    }

    internal static void AssertCommonHeaders(RecordedRequest call, string token, string subscriptionKey, string msn)
    {
        Assert.Equal($"Bearer {token}", call.Header("Authorization"));
        Assert.Equal(subscriptionKey, call.Header("Ocp-Apim-Subscription-Key"));
        Assert.Equal(msn, call.Header("Merchant-Serial-Number"));
        Assert.Equal("vending-test", call.Header("Vipps-System-Name"));
        Assert.Equal("2.3.4", call.Header("Vipps-System-Version"));
        Assert.Equal("vending-vipps-client", call.Header("Vipps-System-Plugin-Name"));
        Assert.Equal("1.0.0", call.Header("Vipps-System-Plugin-Version"));
    }

    private static Task Invoke(IVippsEPaymentClient client, string operation, string merchant) => operation switch
    {
        "get" => client.GetPaymentAsync(merchant, Reference, CancellationToken.None),
        "events" => client.GetPaymentEventsAsync(merchant, Reference, CancellationToken.None),
        "capture" => client.CaptureAsync(merchant, Reference, new Amount("DKK", 100), "key-capture", CancellationToken.None),
        "cancel" => client.CancelAsync(merchant, Reference, false, "key-cancel", CancellationToken.None),
        "refund" => client.RefundAsync(merchant, Reference, new Amount("DKK", 100), "key-refund", CancellationToken.None),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };
}
