using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Http;
using Vending.Core;
using Vending.Core.Machines;
using Vending.Core.Operator;
using Vending.Core.Sales;
using Vending.Core.Webhooks;
using Vending.Vipps;
using VendingFunctions.Http.Operator;

namespace VendingFunctions.Tests.Operator;

/// <summary>The operator function classes on mocked services: parsing, mapping and refusals before any service call.</summary>
public sealed class OperatorFunctionsTests
{
    private readonly Mock<ISaleOperatorService> _sales = new(MockBehavior.Strict);
    private readonly Mock<IOperatorSaleQueries> _queries = new(MockBehavior.Strict);
    private readonly Mock<IMachineDirectory> _machines = new(MockBehavior.Strict);

    private SaleOperatorFunctions Sales() => new(Fakes.OperatorApi(_machines.Object), _sales.Object, _queries.Object, new InMemoryAuditLog(), Mock.Of<Vending.Core.Operator.Fleet.IFleetQueries>(), TimeProvider.System);

    private MachineFunctions Machines() => new(Fakes.OperatorApi(_machines.Object), _machines.Object);

    [Fact]
    public async Task A_refund_is_accepted_with_the_sale_as_it_now_is()
    {
        _sales.Setup(s => s.RefundAsync("sale-0001-abcd", 1000, "r-1", It.IsAny<CancellationToken>()))
            .ReturnsAsync(Fakes.Sale(state: SaleState.Settling));
        var request = TestHttp.Request("POST", "/api/operator/sales/sale-0001-abcd/refunds", """{"amount":1000,"requestId":"r-1"}""", apiKey: null);

        var response = await TestHttp.Run(request, token => Sales().Refund(request, "sale-0001-abcd", token));

        Assert.Equal(202, response.Status);
        Assert.Equal("Settling", response.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_refused_refund_keeps_the_services_code_and_field()
    {
        _sales.Setup(s => s.RefundAsync("sale-0001-abcd", 3000, "r-1", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SaleException(RefusalKind.Invalid, "refund_exceeds_captured", "At most 2500 can be refunded.", "amount"));
        var request = TestHttp.Request("POST", "/api/operator/sales/sale-0001-abcd/refunds", """{"amount":3000,"requestId":"r-1"}""", apiKey: null);

        var response = await TestHttp.Run(request, token => Sales().Refund(request, "sale-0001-abcd", token));

        response.AssertProblem(400, "refund_exceeds_captured", "amount");
    }

    [Theory]
    [InlineData("bad ref!", """{"amount":1,"requestId":"r-1"}""", 404, "sale_not_found", null)]
    [InlineData("sale-0001-abcd", """{"amount":1}""", 400, "validation_failed", "requestId")]
    [InlineData("sale-0001-abcd", """{"amount":1,"requestId":"r-1","force":true}""", 400, "unknown_field", "force")]
    [InlineData("sale-0001-abcd", "not json", 400, "invalid_json", null)]
    public async Task Bad_refunds_are_refused_before_the_service_is_called(string reference, string body, int status, string code, string? field)
    {
        var request = TestHttp.Request("POST", $"/api/operator/sales/{reference}/refunds", body, apiKey: null);

        var response = await TestHttp.Run(request, token => Sales().Refund(request, reference, token));

        response.AssertProblem(status, code, field);
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Retry_and_release_are_accepted_with_the_sale_as_it_now_is()
    {
        _sales.Setup(s => s.RetryAsync("sale-0001-abcd", "op-1", It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale(state: SaleState.Settling));
        _sales.Setup(s => s.ReleaseAsync("sale-0001-abcd", "op-2", It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale(state: SaleState.Settling));
        var retry = TestHttp.Request("POST", "/api/operator/sales/sale-0001-abcd/retry", """{"requestId":"op-1"}""", apiKey: null);
        var release = TestHttp.Request("POST", "/api/operator/sales/sale-0001-abcd/release", """{"requestId":"op-2"}""", apiKey: null);

        var retried = await TestHttp.Run(retry, token => Sales().Retry(retry, "sale-0001-abcd", token));
        var released = await TestHttp.Run(release, token => Sales().Release(release, "sale-0001-abcd", token));

        Assert.Equal((202, 202), (retried.Status, released.Status));
        Assert.Equal("Settling", released.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_refused_retry_or_release_keeps_the_services_code()
    {
        _sales.Setup(s => s.RetryAsync("sale-0001-abcd", "op-1", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SaleException(RefusalKind.Conflict, "nothing_to_retry", "No failed operation."));
        _sales.Setup(s => s.ReleaseAsync("sale-0001-abcd", "op-1", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SaleException(RefusalKind.Conflict, "nothing_reserved", "Nothing reserved."));
        var retry = TestHttp.Request("POST", "/api/operator/sales/sale-0001-abcd/retry", """{"requestId":"op-1"}""", apiKey: null);
        var release = TestHttp.Request("POST", "/api/operator/sales/sale-0001-abcd/release", """{"requestId":"op-1"}""", apiKey: null);

        (await TestHttp.Run(retry, token => Sales().Retry(retry, "sale-0001-abcd", token))).AssertProblem(409, "nothing_to_retry", null);
        (await TestHttp.Run(release, token => Sales().Release(release, "sale-0001-abcd", token))).AssertProblem(409, "nothing_reserved", null);
    }

    [Theory]
    [InlineData("bad ref!", """{"requestId":"r-1"}""", 404, "sale_not_found", null)]
    [InlineData("sale-0001-abcd", "{}", 400, "validation_failed", "requestId")]
    [InlineData("sale-0001-abcd", """{"requestId":"r_1"}""", 400, "validation_failed", "requestId")]
    [InlineData("sale-0001-abcd", """{"requestId":"r-1","force":true}""", 400, "unknown_field", "force")]
    [InlineData("sale-0001-abcd", "not json", 400, "invalid_json", null)]
    public async Task Bad_retries_and_releases_are_refused_before_the_service_is_called(string reference, string body, int status, string code, string? field)
    {
        var retry = TestHttp.Request("POST", $"/api/operator/sales/{reference}/retry", body, apiKey: null);
        var release = TestHttp.Request("POST", $"/api/operator/sales/{reference}/release", body, apiKey: null);

        (await TestHttp.Run(retry, token => Sales().Retry(retry, reference, token))).AssertProblem(status, code, field);
        (await TestHttp.Run(release, token => Sales().Release(release, reference, token))).AssertProblem(status, code, field);
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_sale_is_shown_with_its_history_and_an_unknown_one_is_404()
    {
        var history = new SaleHistoryEntry(1, Fakes.Now, "created", "2500 NOK", SaleState.Created);
        _sales.Setup(s => s.GetAsync("sale-0001-abcd", It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale());
        _sales.Setup(s => s.GetHistoryAsync("sale-0001-abcd", It.IsAny<CancellationToken>())).ReturnsAsync([history]);
        _sales.Setup(s => s.GetAsync("sale-9999-abcd", It.IsAny<CancellationToken>())).ReturnsAsync((SaleView?)null);
        var found = TestHttp.Request("GET", "/api/operator/sales/sale-0001-abcd", apiKey: null);
        var missing = TestHttp.Request("GET", "/api/operator/sales/sale-9999-abcd", apiKey: null);

        var shown = await TestHttp.Run(found, token => Sales().Get(found, "sale-0001-abcd", token));
        var notFound = await TestHttp.Run(missing, token => Sales().Get(missing, "sale-9999-abcd", token));

        Assert.Equal(200, shown.Status);
        Assert.Equal("sale-0001-abcd", shown.Json.GetProperty("sale").GetProperty("reference").GetString());
        Assert.Equal("created", shown.Json.GetProperty("history")[0].GetProperty("type").GetString());
        notFound.AssertProblem(404, "sale_not_found");
    }

    [Fact]
    public async Task The_sales_list_passes_the_parsed_query_and_answers_the_page()
    {
        _queries.Setup(q => q.ListAsync(new SalesQuery("lobby-1", null, null, 2, null), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SalePage([Fakes.Sale()], "dC0w"));
        var request = TestHttp.Request("GET", "/api/operator/sales?machineId=lobby-1&pageSize=2", apiKey: null);

        var response = await TestHttp.Run(request, token => Sales().List(request, token));

        Assert.Equal(200, response.Status);
        Assert.Equal("dC0w", response.Json.GetProperty("continuationToken").GetString());
        Assert.Equal(1, response.Json.GetProperty("sales").GetArrayLength());
    }

    [Fact]
    public async Task Rotation_answers_the_new_key_and_an_unknown_machine_is_404()
    {
        _machines.Setup(m => m.RotateSecretAsync("lobby-1", It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MachineCredentials(Fakes.Machine("lobby-1"), "lobby-1.new-secret"));
        var request = TestHttp.Request("POST", "/api/operator/machines/lobby-1/rotate", apiKey: null);
        var bad = TestHttp.Request("POST", "/api/operator/machines/Lobby!/rotate", apiKey: null);

        var rotated = await TestHttp.Run(request, token => Machines().Rotate(request, "lobby-1", token));
        var refused = await TestHttp.Run(bad, token => Machines().Rotate(bad, "Lobby!", token));

        Assert.Equal(200, rotated.Status);
        Assert.Equal("lobby-1.new-secret", rotated.Json.GetProperty("apiKey").GetString());
        refused.AssertProblem(404, "machine_not_found");
        _machines.Verify(m => m.RotateSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Disable_and_enable_set_the_flag(bool enabled)
    {
        _machines.Setup(m => m.SetEnabledAsync("lobby-1", enabled, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Fakes.Machine("lobby-1") with { Enabled = enabled });
        var request = TestHttp.Request("POST", $"/api/operator/machines/lobby-1/{(enabled ? "enable" : "disable")}", apiKey: null);

        var response = await TestHttp.Run(request, token => enabled ? Machines().Enable(request, "lobby-1", token) : Machines().Disable(request, "lobby-1", token));

        Assert.Equal(200, response.Status);
        Assert.Equal(enabled, response.Json.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Merchants_show_whether_a_secret_is_held_but_never_a_secret()
    {
        var vipps = new VippsOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:7071"),
            Merchants =
            {
                ["vippsno"] = new VippsMerchantOptions
                {
                    MerchantSerialNumber = "100001", ClientId = "client-id-1", ClientSecret = "client-secret-1", SubscriptionKey = "subscription-key-1",
                    Currencies = ["NOK"], Brand = "Vipps", TargetUrlQrApproved = true, WebhookSecret = "webhook-secret-1",
                },
                ["mobilepaydk"] = new VippsMerchantOptions { MerchantSerialNumber = "200002", Currencies = ["DKK", "EUR"], Brand = "MobilePay" },
            },
        };
        var store = new Mock<IWebhookRegistrationStore>();
        store.Setup(s => s.ListAsync(It.IsAny<CancellationToken>())).ReturnsAsync(
            [new StoredWebhookRegistration("mobilepaydk", Guid.NewGuid(), "https://x", "stored-secret-1", null, Fakes.Now)]);
        var function = new MerchantFunctions(Fakes.OperatorApi(_machines.Object), new MerchantCatalog(Options.Create(vipps), store.Object));
        var request = TestHttp.Request("GET", "/api/operator/merchants", apiKey: null);

        var response = await TestHttp.Run(request, token => function.List(request, token));

        Assert.Equal(200, response.Status);
        var merchants = response.Json.GetProperty("merchants");
        Assert.Equal("mobilepaydk", merchants[0].GetProperty("merchantId").GetString());
        Assert.True(merchants[0].GetProperty("webhookSecretStored").GetBoolean());
        Assert.False(merchants[0].GetProperty("webhookSecretConfigured").GetBoolean());
        Assert.True(merchants[1].GetProperty("webhookSecretConfigured").GetBoolean());
        Assert.Equal("targetUrl", merchants[1].GetProperty("qrApproval").GetString());
        foreach (var secret in new[] { "client-id-1", "client-secret-1", "subscription-key-1", "webhook-secret-1", "stored-secret-1" })
        {
            Assert.DoesNotContain(secret, response.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reconciliation_reasons_follow_the_deadlines()
    {
        var settings = new VendingOptions { PublicBaseUrl = new Uri("https://x"), VendReportDeadlineSeconds = 120, CommandStaleSeconds = 120, ExpiryGraceSeconds = 60 };
        var created = new Sale
        {
            Reference = "sale-0001-abcd", MachineId = "lobby-1", MachineSaleId = "m-1", MerchantId = "vippsno", Currency = "NOK",
            CaptureMode = CaptureMode.OnDelivery, State = SaleState.Created, Amount = 2500, Lines = [], QrRequest = new QrRequest("svg", null),
            CreatedAt = Fakes.Now, UpdatedAt = Fakes.Now, ExpiresAt = Fakes.Now.AddMinutes(10),
        };
        var authorized = created with { State = SaleState.Authorized, AuthorizedAt = Fakes.Now };
        var pending = new SaleOperation("capture1", OperationKind.Capture, 2500, "key", OperationStatus.Pending, Fakes.Now, Fakes.Now);

        Assert.Null(OperatorSaleQueries.Reason(created, Fakes.Now.AddMinutes(11), settings));
        Assert.Equal("created_past_expiry", OperatorSaleQueries.Reason(created, Fakes.Now.AddMinutes(11).AddSeconds(1), settings));
        Assert.Null(OperatorSaleQueries.Reason(authorized, Fakes.Now.AddSeconds(240), settings));
        Assert.Equal("authorized_past_vend_deadline", OperatorSaleQueries.Reason(authorized, Fakes.Now.AddSeconds(241), settings));
        Assert.Equal("capture_pending_too_long", OperatorSaleQueries.Reason(created with { State = SaleState.Settling, Operations = [pending] }, Fakes.Now.AddSeconds(241), settings));
        Assert.Equal("failed", OperatorSaleQueries.Reason(created with { State = SaleState.Failed, FailureCode = "vipps_5100" }, Fakes.Now, settings));
        Assert.Null(OperatorSaleQueries.Reason(created with { State = SaleState.Captured }, Fakes.Now.AddDays(1), settings));
    }
}
