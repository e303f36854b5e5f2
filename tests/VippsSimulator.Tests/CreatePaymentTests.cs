using System.Text.Json.Nodes;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

public sealed class CreatePaymentTests(SimulatorHarness sim) : IClassFixture<SimulatorHarness>
{
    private static OpenApiSchema Spec => OpenApiSchema.EPayment.Value;

    [Fact]
    public async Task Create_answers_201_with_a_qr_image_link_and_get_shows_a_created_payment()
    {
        var reference = SimulatorHarness.NewReference();

        var created = await sim.Create(SimulatorHarness.QrPayment(reference));
        var fetched = await sim.Get(reference);

        created.AssertStatus(201);
        Assert.Empty(Spec.CheckResponse("/v1/payments", "post", 201, created.Body));
        Assert.Equal(reference, created.Json["reference"]!.GetValue<string>());
        Assert.StartsWith($"{sim.BaseUrl}/qr-image/v1?token=", created.Json["redirectUrl"]!.GetValue<string>());
        fetched.AssertStatus(200);
        Assert.Empty(Spec.CheckResponse("/v1/payments/{Reference}", "get", 200, fetched.Body));
        Assert.Equal("CREATED", fetched.Json["state"]!.GetValue<string>());
        Assert.Equal(0, fetched.Json["aggregate"]!["authorizedAmount"]!["value"]!.GetValue<long>());
        Assert.Equal(2500, fetched.Json["amount"]!["value"]!.GetValue<long>());
    }

    [Fact]
    public async Task Target_url_format_returns_the_customer_page_for_an_approved_merchant()
    {
        var reference = SimulatorHarness.NewReference();
        var created = await sim.Create(SimulatorHarness.QrPayment(reference, format: "TEXT/TARGETURL"));

        created.AssertStatus(201);
        Assert.StartsWith($"{sim.BaseUrl}/pay/", created.Json["redirectUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task Target_url_format_is_refused_for_a_merchant_without_approval()
    {
        var reply = await sim.Create(SimulatorHarness.QrPayment(SimulatorHarness.NewReference(), 2500, "DKK", "TEXT/TARGETURL"), mobilePay: true);

        reply.AssertProblem(400, null);
        Assert.Contains("qrFormat.format", reply.Body);
    }

    [Fact]
    public async Task Same_key_and_body_replays_the_stored_answer_without_a_second_payment()
    {
        var reference = SimulatorHarness.NewReference();
        var body = SimulatorHarness.QrPayment(reference);

        var first = await sim.Create(body, "create-key-1");
        var second = await sim.Create(body, "create-key-1");

        first.AssertStatus(201);
        second.AssertStatus(201);
        Assert.Equal(first.Body, second.Body);
        var events = await sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}/events");
        Assert.Single(events.Json.AsArray());
    }

    [Fact]
    public async Task Same_key_with_another_body_is_4020_and_a_new_key_for_a_known_reference_is_4150()
    {
        var reference = SimulatorHarness.NewReference();
        (await sim.Create(SimulatorHarness.QrPayment(reference), "create-key-2")).AssertStatus(201);

        var otherBody = await sim.Create(SimulatorHarness.QrPayment(reference, 3000), "create-key-2");
        var otherKey = await sim.Create(SimulatorHarness.QrPayment(reference), "create-key-3");

        otherBody.AssertProblem(409, "4020");
        otherKey.AssertProblem(409, "4150");
        Assert.Empty(Spec.CheckResponse("/v1/payments", "post", 409, otherKey.Body));
    }

    public static TheoryData<string, string?, string> InvalidRequests() => new()
    {
        // mutation name, expected ErrorCode (null: field validation only), a text the problem must mention
        { "reference-too-short", null, "reference" },
        { "reference-bad-characters", null, "reference" },
        { "amount-with-decimals", "4040", "amount.value" },
        { "amount-above-maximum", "4040", "amount.value" },
        { "amount-below-nok-minimum", "6010", "minimum" },
        { "currency-not-of-merchant", "5040", "DKK" },
        { "currency-unknown", null, "amount.currency" },
        { "description-too-short", null, "paymentDescription" },
        { "qr-size-too-small", null, "qrFormat.size" },
        { "qr-format-unknown", null, "qrFormat.format" },
        { "unknown-field", null, "tip" },
        { "order-line-missing-tax-amount", "4140", "totalTaxAmount" },
        { "order-line-without-tax-rate", "4140", "taxRate" },
        { "receipt-without-order-lines", null, "orderLines" },
        { "customer-two-identities", null, "customer" },
        { "customer-bad-phone", "4070", "phoneNumber" },
        { "missing-user-flow", "4140", "userFlow" },
        { "bad-user-flow", null, "userFlow" },
        { "http-return-url", "4090", "returnUrl" },
        { "too-much-metadata", "4100", "metadata" },
        { "expires-at-without-approval", "5050", "expiresAt" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_create_requests_are_400_problems(string mutation, string? code, string mentions)
    {
        var body = SimulatorHarness.QrPayment(SimulatorHarness.NewReference());
        Mutate(body, mutation);

        var reply = await sim.Create(body);

        reply.AssertProblem(400, code);
        Assert.Contains(mentions, reply.Body);
        Assert.Empty(Spec.CheckResponse("/v1/payments", "post", 400, reply.Body));
        Assert.Null(sim.Simulator.Ledger.Find(body["reference"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Create_needs_an_idempotency_key()
    {
        var reply = await sim.Call(HttpMethod.Post, "/epayment/v1/payments", SimulatorHarness.QrPayment(SimulatorHarness.NewReference()).ToJsonString());
        reply.AssertProblem(400, "4140");
    }

    [Fact]
    public async Task Mobilepay_merchant_sells_in_eur_with_a_one_cent_minimum()
    {
        var accepted = await sim.Create(SimulatorHarness.QrPayment(SimulatorHarness.NewReference(), 1, "EUR"), mobilePay: true);
        var zero = await sim.Create(SimulatorHarness.QrPayment(SimulatorHarness.NewReference(), 0, "EUR"), mobilePay: true);
        var nok = await sim.Create(SimulatorHarness.QrPayment(SimulatorHarness.NewReference(), 2500, "NOK"), mobilePay: true);

        accepted.AssertStatus(201);
        zero.AssertProblem(400, "6010");
        nok.AssertProblem(400, "5040");
    }

    private static void Mutate(JsonObject body, string mutation)
    {
        var line = body["receipt"]!["orderLines"]![0]!.AsObject();
        switch (mutation)
        {
            case "reference-too-short": body["reference"] = "abc"; break;
            case "reference-bad-characters": body["reference"] = "order_123456!"; break;
            case "amount-with-decimals": body["amount"]!["value"] = 25.5; break;
            case "amount-above-maximum": body["amount"]!["value"] = 65_000_001; break;
            case "amount-below-nok-minimum": body["amount"]!["value"] = 99; break;
            case "currency-not-of-merchant": body["amount"]!["currency"] = "DKK"; body["receipt"]!["bottomLine"]!["currency"] = "DKK"; break;
            case "currency-unknown": body["amount"]!["currency"] = "XYZ"; break;
            case "description-too-short": body["paymentDescription"] = "ab"; break;
            case "qr-size-too-small": body["qrFormat"] = new JsonObject { ["format"] = "IMAGE/PNG", ["size"] = 50 }; break;
            case "qr-format-unknown": body["qrFormat"] = new JsonObject { ["format"] = "IMAGE/GIF" }; break;
            case "unknown-field": body["tip"] = 100; break;
            case "order-line-missing-tax-amount": line.Remove("totalTaxAmount"); break;
            case "order-line-without-tax-rate": line.Remove("taxRate"); break;
            case "receipt-without-order-lines": body["receipt"]!["orderLines"] = new JsonArray(); break;
            case "customer-two-identities": body["customer"] = new JsonObject { ["phoneNumber"] = "4712345678", ["personalQr"] = "https://qr.vipps.no/p/1" }; break;
            case "customer-bad-phone": body["customer"] = new JsonObject { ["phoneNumber"] = "+4712345678" }; break;
            case "missing-user-flow": body.Remove("userFlow"); break;
            case "bad-user-flow": body["userFlow"] = "SMS"; break;
            case "http-return-url": body["returnUrl"] = "http://example.com/back"; break;
            case "too-much-metadata":
                body["metadata"] = new JsonObject { ["a"] = "1", ["b"] = "2", ["c"] = "3", ["d"] = "4", ["e"] = "5", ["f"] = "6" };
                break;
            case "expires-at-without-approval": body["expiresAt"] = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"); break;
            default: throw new ArgumentException(mutation);
        }
    }
}
