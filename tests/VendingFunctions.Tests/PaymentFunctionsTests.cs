using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Sales;
using Vending.Vipps;
using VendingFunctions.Http.Payments;

namespace VendingFunctions.Tests;

public sealed class PaymentFunctionsTests
{
    private const string ValidCreate = """
        {"machineSaleId":"m-1","currency":"NOK","lines":[{"productId":"cola","name":"Cola 0.5l","quantity":1,"unitPrice":2500,"taxRate":2500}],"qr":{"format":"png","size":300}}
        """;

    private readonly Mock<ISaleService> _sales = new(MockBehavior.Strict);
    private readonly Mock<IMachineDirectory> _directory = Fakes.Directory();

    private PaymentFunctions Functions(int maxBodyBytes = 16_384) =>
        new(Fakes.Api(Fakes.Options(maxBodyBytes)), new MachineAuthenticator(_directory.Object, NullLogger<MachineAuthenticator>.Instance), _sales.Object);

    [Fact]
    public async Task Create_new_sale_answers_201_with_location_and_the_sale()
    {
        CreateSaleRequest? received = null;
        _sales.Setup(s => s.CreateAsync(It.Is<Machine>(m => m.MachineId == "machine-1"), It.IsAny<CreateSaleRequest>(), It.IsAny<CancellationToken>()))
            .Callback((Machine _, CreateSaleRequest r, CancellationToken _) => received = r)
            .ReturnsAsync(new CreateSaleResult(Fakes.Sale(), Created: true));
        var request = TestHttp.Request("POST", "/api/payments", ValidCreate);

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        Assert.Equal(201, response.Status);
        Assert.Equal("/api/payments/sale-0001-abcd", response.Headers.Location.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        Assert.Equal("sale-0001-abcd", response.Json.GetProperty("reference").GetString());
        Assert.Equal("Created", response.Json.GetProperty("state").GetString());
        Assert.Equal(2500, response.Json.GetProperty("amount").GetInt64());
        Assert.NotNull(received);
        Assert.Equal("m-1", received.MachineSaleId);
        Assert.Equal(new SaleLineRequest("cola", "Cola 0.5l", 1, 2500, 2500), Assert.Single(received.Lines));
        Assert.Equal(new QrRequest("png", 300), received.Qr);
    }

    [Fact]
    public async Task Create_replay_answers_200_and_qr_defaults_to_the_machine_format()
    {
        CreateSaleRequest? received = null;
        _sales.Setup(s => s.CreateAsync(It.IsAny<Machine>(), It.IsAny<CreateSaleRequest>(), It.IsAny<CancellationToken>()))
            .Callback((Machine _, CreateSaleRequest r, CancellationToken _) => received = r)
            .ReturnsAsync(new CreateSaleResult(Fakes.Sale(), Created: false));
        var request = TestHttp.Request("POST", "/api/payments", """{"machineSaleId":"m-1","currency":"NOK","lines":[{"productId":"cola","name":"Cola","quantity":2,"unitPrice":100,"taxRate":0}]}""");

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        Assert.Equal(200, response.Status);
        Assert.Equal(new QrRequest("svg", null), received!.Qr);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Basic bWFjaGluZS0xOnMzY3JldA==")]
    [InlineData("Bearer ")]
    [InlineData("Bearer no-dot-in-key")]
    [InlineData("Bearer machine-1.wrong-secret")]
    [InlineData("Bearer unknown-machine.s3cret-value")]
    public async Task Missing_or_bad_machine_keys_get_the_same_401_and_change_nothing(string? authorization)
    {
        var request = TestHttp.Request("POST", "/api/payments", ValidCreate, apiKey: null);
        if (authorization is not null)
        {
            request.Headers.Authorization = authorization;
        }

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(401, "unauthorized");
        Assert.Equal("A valid machine api key is required.", response.Json.GetProperty("title").GetString());
        Assert.StartsWith("Bearer", response.Headers.WWWAuthenticate.ToString());
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_before_parsing()
    {
        var request = TestHttp.Request("POST", "/api/payments", ValidCreate + new string(' ', 300));

        var response = await TestHttp.Run(request, token => Functions(maxBodyBytes: 256).Create(request, token));

        response.AssertProblem(413, "body_too_large");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_cut_off_with_413()
    {
        var padding = new string(' ', 400);
        var request = TestHttp.Request("POST", "/api/payments", padding + ValidCreate, declareLength: false);

        var response = await TestHttp.Run(request, token => Functions(maxBodyBytes: 256).Create(request, token));

        response.AssertProblem(413, "body_too_large");
        _sales.VerifyNoOtherCalls();
    }

    [Theory]
    [InlineData("{\"machineSaleId\":", "invalid_json", null)]
    [InlineData("[1,2]", "validation_failed", null)]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[],\"price\":1}", "unknown_field", "price")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0,\"colour\":\"red\"}]}", "unknown_field", "lines[0].colour")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":\"two\",\"unitPrice\":1,\"taxRate\":0}]}", "validation_failed", "lines[0].quantity")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"a\",\"name\":\"A\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0},{\"productId\":\"b\",\"name\":\"B\",\"quantity\":0,\"unitPrice\":1,\"taxRate\":0}]}", "validation_failed", "lines[1].quantity")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1.5,\"unitPrice\":1,\"taxRate\":0}]}", "validation_failed", "lines[0].quantity")]
    [InlineData("{\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0}]}", "validation_failed", "machineSaleId")]
    [InlineData("{\"machineSaleId\":\"m/1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0}]}", "validation_failed", "machineSaleId")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"nok\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0}]}", "validation_failed", "currency")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":{}}", "validation_failed", "lines")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"machineSaleId\":\"m-2\",\"currency\":\"NOK\",\"lines\":[]}", "validation_failed", "machineSaleId")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0}],\"qr\":{\"format\":\"gif\"}}", "validation_failed", "qr.format")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":1,\"taxRate\":0}],\"qr\":{\"format\":\"png\",\"size\":5000}}", "validation_failed", "qr.size")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"\\ud800\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}", "invalid_json", null)]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola \\udc00\\ud800\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}", "invalid_json", null)]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[],\"\\ud800\":1}", "invalid_json", null)]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"\u202eCola\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}", "validation_failed", "lines[0].name")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Co\\u0000la\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}", "validation_failed", "lines[0].name")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Co\\u200bla\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}", "validation_failed", "lines[0].name")]
    [InlineData("{\"machineSaleId\":\"m-1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":0,\"taxRate\":0}]}", "validation_failed", "lines[0].unitPrice")]
    [InlineData("{\"machineSaleId\":\"m.1\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}", "validation_failed", "machineSaleId")]
    public async Task Bad_create_bodies_get_400_naming_the_field_and_change_nothing(string body, string code, string? field)
    {
        var request = TestHttp.Request("POST", "/api/payments", body);

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(400, code, field);
        _sales.VerifyNoOtherCalls();
    }

    /// <summary>Bytes no text can hold, inside a JSON string: they were once read late and answered 500.</summary>
    [Theory]
    [InlineData("x\xff\xfe")] // invalid UTF-8
    [InlineData("x\xc0\xaf")] // overlong '/'
    [InlineData("x\xed\xa0\x80")] // a surrogate encoded as UTF-8
    [InlineData("x\xf4\x90\x80\x80")] // above U+10FFFF
    public async Task Invalid_utf8_inside_a_json_string_is_invalid_json_not_a_server_error(string latin1)
    {
        var body = Encoding.UTF8.GetBytes("{\"machineSaleId\":\"").Concat(Encoding.Latin1.GetBytes(latin1))
            .Concat(Encoding.UTF8.GetBytes("\",\"currency\":\"NOK\",\"lines\":[{\"productId\":\"cola\",\"name\":\"Cola\",\"quantity\":1,\"unitPrice\":100,\"taxRate\":0}]}")).ToArray();
        var request = TestHttp.Request("POST", "/api/payments", body);

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(400, "invalid_json");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_body_that_is_not_json_by_content_type_gets_415()
    {
        var request = TestHttp.Request("POST", "/api/payments", "machineSaleId=m-1", contentType: "application/x-www-form-urlencoded");

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(415, "unsupported_media_type");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_domain_refusal_keeps_its_code_and_field_and_gets_the_status_of_its_kind()
    {
        _sales.Setup(s => s.CreateAsync(It.IsAny<Machine>(), It.IsAny<CreateSaleRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SaleException(RefusalKind.Invalid, "currency_mismatch", "This machine sells in NOK.", "currency"));
        var request = TestHttp.Request("POST", "/api/payments", ValidCreate);

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(400, "currency_mismatch", "currency");
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_500_that_reveals_nothing()
    {
        _sales.Setup(s => s.CreateAsync(It.IsAny<Machine>(), It.IsAny<CreateSaleRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("connection string AccountKey=abc123 broke"));
        var request = TestHttp.Request("POST", "/api/payments", ValidCreate);

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(500, "internal_error");
        Assert.DoesNotContain("abc123", response.Body);
    }

    [Fact]
    public async Task A_vipps_outage_is_a_503_with_retry_after()
    {
        _sales.Setup(s => s.CreateAsync(It.IsAny<Machine>(), It.IsAny<CreateSaleRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new VippsApiException(HttpStatusCode.BadGateway, null, "Bad gateway"));
        var request = TestHttp.Request("POST", "/api/payments", ValidCreate);

        var response = await TestHttp.Run(request, token => Functions().Create(request, token));

        response.AssertProblem(503, "payment_provider_unavailable");
        Assert.Equal("5", response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task Get_returns_the_machines_own_sale()
    {
        _sales.Setup(s => s.GetAsync("machine-1", "sale-0001-abcd", It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale(state: SaleState.Authorized));
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd");

        var response = await TestHttp.Run(request, token => Functions().Get(request, "sale-0001-abcd", token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Authorized", response.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Another_machines_sale_is_404_not_403()
    {
        // The service answers null for a sale that exists but belongs to someone else.
        _sales.Setup(s => s.GetAsync("machine-1", "sale-of-machine-2", It.IsAny<CancellationToken>())).ReturnsAsync((SaleView?)null);
        var request = TestHttp.Request("GET", "/api/payments/sale-of-machine-2");

        var response = await TestHttp.Run(request, token => Functions().Get(request, "sale-of-machine-2", token));

        response.AssertProblem(404, "sale_not_found");
    }

    [Fact]
    public async Task A_reference_that_cannot_exist_is_404_without_asking_the_service()
    {
        var request = TestHttp.Request("GET", "/api/payments/x");

        var response = await TestHttp.Run(request, token => Functions().Get(request, "bad'ref", token));

        response.AssertProblem(404, "sale_not_found");
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Get_with_wait_long_polls_from_the_known_state_and_stops_when_the_client_leaves()
    {
        using var clientGone = new CancellationTokenSource();
        CancellationToken seen = default;
        _sales.Setup(s => s.WaitForChangeAsync("machine-1", "sale-0001-abcd", SaleState.Created, TimeSpan.FromSeconds(20), It.IsAny<CancellationToken>()))
            .Returns(async (string _, string _, SaleState _, TimeSpan _, CancellationToken token) =>
            {
                seen = token;
                await clientGone.CancelAsync();
                token.ThrowIfCancellationRequested();
                return Fakes.Sale();
            });
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd?wait=20&state=created");
        request.HttpContext.RequestAborted = clientGone.Token;

        var response = await TestHttp.Run(request, token => Functions().Get(request, "sale-0001-abcd", token));

        Assert.True(seen.IsCancellationRequested);
        Assert.Equal(499, response.Status);
        Assert.Equal("request_cancelled", response.Code);
    }

    [Fact]
    public async Task Get_with_wait_returns_the_changed_sale()
    {
        _sales.Setup(s => s.WaitForChangeAsync("machine-1", "sale-0001-abcd", SaleState.Created, TimeSpan.FromSeconds(25), It.IsAny<CancellationToken>()))
            .ReturnsAsync(Fakes.Sale(state: SaleState.Authorized));
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd?wait=25&state=Created");

        var response = await TestHttp.Run(request, token => Functions().Get(request, "sale-0001-abcd", token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Authorized", response.Json.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("?wait=26&state=Created", "wait")]
    [InlineData("?wait=-1&state=Created", "wait")]
    [InlineData("?wait=soon&state=Created", "wait")]
    [InlineData("?wait=10", "state")]
    [InlineData("?wait=10&state=Paid", "state")]
    [InlineData("?wait=10&state=1", "state")]
    [InlineData("?state=Created", "wait")]
    public async Task Bad_long_poll_queries_get_400_naming_the_parameter(string query, string field)
    {
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd" + query);

        var response = await TestHttp.Run(request, token => Functions().Get(request, "sale-0001-abcd", token));

        response.AssertProblem(400, "validation_failed", field);
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Vend_partial_passes_the_delivered_lines()
    {
        VendReport? received = null;
        _sales.Setup(s => s.ReportVendAsync("machine-1", "sale-0001-abcd", It.IsAny<VendReport>(), It.IsAny<CancellationToken>()))
            .Callback((string _, string _, VendReport r, CancellationToken _) => received = r)
            .ReturnsAsync(Fakes.Sale(state: SaleState.Settling));
        var request = TestHttp.Request("POST", "/api/payments/sale-0001-abcd/vend", """{"outcome":"partial","deliveredLines":[{"productId":"cola","quantity":1}]}""");

        var response = await TestHttp.Run(request, token => Functions().Vend(request, "sale-0001-abcd", token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Settling", response.Json.GetProperty("state").GetString());
        Assert.Equal(VendOutcome.Partial, received!.Outcome);
        Assert.Equal(new DeliveredLine("cola", 1), Assert.Single(received.DeliveredLines!));
    }

    [Fact]
    public async Task Vend_delivered_needs_no_lines()
    {
        _sales.Setup(s => s.ReportVendAsync("machine-1", "sale-0001-abcd", new VendReport(VendOutcome.Delivered, null), It.IsAny<CancellationToken>()))
            .ReturnsAsync(Fakes.Sale(state: SaleState.Settling));
        var request = TestHttp.Request("POST", "/api/payments/sale-0001-abcd/vend", """{"outcome":"delivered"}""");

        var response = await TestHttp.Run(request, token => Functions().Vend(request, "sale-0001-abcd", token));

        Assert.Equal(200, response.Status);
    }

    [Theory]
    [InlineData("""{"outcome":"exploded"}""", "outcome")]
    [InlineData("""{"outcome":1}""", "outcome")]
    [InlineData("""{"outcome":"0"}""", "outcome")]
    [InlineData("""{}""", "outcome")]
    [InlineData("""{"outcome":"partial"}""", "deliveredLines")]
    [InlineData("""{"outcome":"failed","deliveredLines":[{"productId":"cola","quantity":1}]}""", "deliveredLines")]
    [InlineData("""{"outcome":"partial","deliveredLines":[{"productId":"cola","quantity":-1}]}""", "deliveredLines[0].quantity")]
    [InlineData("""{"outcome":"partial","deliveredLines":[{"quantity":1}]}""", "deliveredLines[0].productId")]
    public async Task Bad_vend_reports_get_400_naming_the_field(string body, string field)
    {
        var request = TestHttp.Request("POST", "/api/payments/sale-0001-abcd/vend", body);

        var response = await TestHttp.Run(request, token => Functions().Vend(request, "sale-0001-abcd", token));

        response.AssertProblem(400, "validation_failed", field);
        _sales.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Vend_on_another_machines_sale_is_404()
    {
        _sales.Setup(s => s.ReportVendAsync("machine-1", "sale-of-machine-2", It.IsAny<VendReport>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SaleException(RefusalKind.NotFound, "sale_not_found", "No such sale."));
        var request = TestHttp.Request("POST", "/api/payments/sale-of-machine-2/vend", """{"outcome":"failed"}""");

        var response = await TestHttp.Run(request, token => Functions().Vend(request, "sale-of-machine-2", token));

        response.AssertProblem(404, "sale_not_found");
    }

    [Fact]
    public async Task Cancel_takes_an_empty_body()
    {
        _sales.Setup(s => s.CancelAsync("machine-1", "sale-0001-abcd", It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale(state: SaleState.Cancelled));
        var request = TestHttp.Request("POST", "/api/payments/sale-0001-abcd/cancel");

        var response = await TestHttp.Run(request, token => Functions().Cancel(request, "sale-0001-abcd", token));

        Assert.Equal(200, response.Status);
        Assert.Equal("Cancelled", response.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Cancel_refuses_unknown_fields()
    {
        var request = TestHttp.Request("POST", "/api/payments/sale-0001-abcd/cancel", """{"reason":"bored"}""");

        var response = await TestHttp.Run(request, token => Functions().Cancel(request, "sale-0001-abcd", token));

        response.AssertProblem(400, "unknown_field", "reason");
        _sales.VerifyNoOtherCalls();
    }
}
