using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Http;
using Vending.Core.Sales;
using Vending.Core.Webhooks;
using Vending.Vipps;
using Vending.Vipps.EPayment;
using VendingFunctions.Http.Webhooks;

namespace VendingFunctions.Tests;

public sealed class WebhookTests
{
    private const string VippsSecret = "vippsno-webhook-secret";
    private const string MobilePaySecret = "mobilepaydk-webhook-secret";
    private static readonly Uri RegisteredUrl = new("https://vending.example/api/webhooks/vipps");

    private readonly Mock<ISaleService> _sales = new(MockBehavior.Strict);
    private readonly Mock<IStaleWebhookPoller> _poller = new(MockBehavior.Strict);
    private readonly TimeProvider _time = new FixedTime(Fakes.Now);

    private static string Event(string msn = "100001", string reference = "sale-0001-abcd") => $$$"""
        {"msn":"{{{msn}}}","reference":"{{{reference}}}","pspReference":"psp-1","name":"AUTHORIZED","amount":{"currency":"NOK","value":2500},"timestamp":"2025-11-26T11:59:58Z","success":true,"userDetails":{"userId":"x"}}
        """;

    private VippsWebhookFunction Function(int maxBodyBytes = 16_384)
    {
        var vipps = new VippsOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:7071"),
            Merchants =
            {
                ["vippsno"] = new VippsMerchantOptions { MerchantSerialNumber = "100001", WebhookSecret = VippsSecret },
                ["mobilepaydk"] = new VippsMerchantOptions { MerchantSerialNumber = "200002", WebhookSecret = MobilePaySecret },
                ["no-webhooks"] = new VippsMerchantOptions { MerchantSerialNumber = "300003" },
            },
        };
        var monitor = Mock.Of<IOptionsMonitor<VippsOptions>>(m => m.CurrentValue == vipps);
        var options = Fakes.Options(maxBodyBytes);
        var bodies = new RequestBodyReader(Options.Create(options));
        var receiver = new WebhookReceiver(bodies, new VippsOptionsWebhookSecretProvider(monitor), Options.Create(options), _time, _poller.Object, NullLogger<WebhookReceiver>.Instance);
        return new VippsWebhookFunction(receiver, _sales.Object);
    }

    /// <summary>Signs as Vipps does (per its webhook documentation), written here independently of the product's verifier.</summary>
    private static Microsoft.AspNetCore.Http.HttpRequest Signed(string body, string secret, DateTimeOffset date, Uri? url = null, string? tamperedBody = null)
    {
        url ??= RegisteredUrl;
        var xMsDate = date.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        var contentHash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var stringToSign = $"POST\n{url.PathAndQuery}\n{xMsDate};{url.Authority};{contentHash}";
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));

        var request = TestHttp.Request("POST", "/api/webhooks/vipps", tamperedBody ?? body, apiKey: null);
        request.Headers["x-ms-date"] = xMsDate;
        request.Headers["x-ms-content-sha256"] = contentHash;
        request.Headers.Authorization = $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}";
        request.Headers.Host = url.Authority;
        return request;
    }

    [Fact]
    public async Task A_well_signed_webhook_is_recorded_for_the_signing_merchant_and_answered_200()
    {
        PaymentEvent? recorded = null;
        _sales.Setup(s => s.RecordWebhookAsync("vippsno", It.IsAny<PaymentEvent>(), It.IsAny<CancellationToken>()))
            .Callback((string _, PaymentEvent e, CancellationToken _) => recorded = e)
            .ReturnsAsync(WebhookOutcome.Applied);
        var request = Signed(Event(), VippsSecret, Fakes.Now.AddSeconds(-2));

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Applied", response.Json.GetProperty("outcome").GetString());
        Assert.Equal("sale-0001-abcd", recorded!.Reference);
        Assert.Equal("AUTHORIZED", recorded.Name);
        Assert.Equal(new Amount("NOK", 2500), recorded.Amount);
    }

    [Fact]
    public async Task The_second_merchants_secret_verifies_its_own_events()
    {
        _sales.Setup(s => s.RecordWebhookAsync("mobilepaydk", It.IsAny<PaymentEvent>(), It.IsAny<CancellationToken>())).ReturnsAsync(WebhookOutcome.Duplicate);
        var request = Signed(Event(msn: "200002"), MobilePaySecret, Fakes.Now);

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Duplicate", response.Json.GetProperty("outcome").GetString());
    }

    public static TheoryData<string> BadSignatures => new() { "wrong secret", "stale date, wrong secret", "stale date, tampered body", "tampered body", "other url", "no headers" };

    [Theory]
    [MemberData(nameof(BadSignatures))]
    public async Task A_badly_signed_webhook_gets_401_and_changes_nothing(string flaw)
    {
        var request = flaw switch
        {
            "wrong secret" => Signed(Event(), "not-the-secret", Fakes.Now),
            "stale date, wrong secret" => Signed(Event(), "not-the-secret", Fakes.Now.AddMinutes(-6)),
            "stale date, tampered body" => Signed(Event(), VippsSecret, Fakes.Now.AddMinutes(-6), tamperedBody: Event(reference: "sale-9999-abcd")),
            "tampered body" => Signed(Event(), VippsSecret, Fakes.Now, tamperedBody: Event(reference: "sale-9999-abcd")),
            "other url" => Signed(Event(), VippsSecret, Fakes.Now, url: new Uri("https://attacker.example/api/webhooks/vipps")),
            _ => TestHttp.Request("POST", "/api/webhooks/vipps", Event(), apiKey: null),
        };

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        response.AssertProblem(401, "invalid_signature");
        _sales.VerifyNoOtherCalls();
        _poller.VerifyNoOtherCalls();
    }

    [Theory]
    [InlineData(-6)]
    [InlineData(-24 * 60)]
    [InlineData(6)]
    public async Task A_well_signed_webhook_dated_outside_the_window_polls_vipps_instead_of_recording_its_body(int minutes)
    {
        _poller.Setup(p => p.PollAsync("vippsno", "sale-0001-abcd", It.IsAny<CancellationToken>())).ReturnsAsync(WebhookOutcome.Applied);
        var request = Signed(Event(), VippsSecret, Fakes.Now.AddMinutes(minutes));

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Applied", response.Json.GetProperty("outcome").GetString());
        _poller.Verify(p => p.PollAsync("vippsno", "sale-0001-abcd", It.IsAny<CancellationToken>()), Times.Once);
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_signed_event_naming_another_merchants_msn_is_refused()
    {
        var request = Signed(Event(msn: "200002"), VippsSecret, Fakes.Now);

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        response.AssertProblem(400, "merchant_mismatch", "msn");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_signed_body_that_is_not_an_event_is_400()
    {
        var request = Signed("""{"hello":"world"}""", VippsSecret, Fakes.Now);

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        response.AssertProblem(400, "validation_failed", "msn");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_signed_body_that_is_not_json_is_400()
    {
        var request = Signed("not json", VippsSecret, Fakes.Now);

        var response = await TestHttp.Run(request, token => Function().Receive(request, token));

        response.AssertProblem(400, "invalid_json");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task An_oversized_webhook_is_refused_before_verification()
    {
        var request = Signed(Event() + new string(' ', 300), VippsSecret, Fakes.Now);

        var response = await TestHttp.Run(request, token => Function(maxBodyBytes: 256).Receive(request, token));

        response.AssertProblem(413, "body_too_large");
        _sales.VerifyNoOtherCalls();
    }
}

internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
