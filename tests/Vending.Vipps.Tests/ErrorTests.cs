using System.Net;
using Vending.Vipps.EPayment;
using Vending.Vipps.Http;
using Vending.Vipps.Tests.Support;

namespace Vending.Vipps.Tests;

public sealed class ErrorTests : IDisposable
{
    private readonly VippsTestContext context = new();

    public void Dispose() => context.Dispose();

    [Fact]
    public async Task A_problem_json_error_carries_status_code_and_title()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Problem(HttpStatusCode.BadRequest, 6090, "Capture amount too high"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() =>
            context.EPayment.CaptureAsync(VippsTestContext.Norway, "vm17-000123", new Amount("NOK", 9999), "vm17-000123-capture", CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal(6090, error.ErrorCode);
        Assert.Equal("Capture amount too high", error.Title);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task A_gateway_error_without_a_code_still_becomes_a_vipps_error()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.Forbidden, """{"statusCode":403,"message":"Out of call volume quota."}"""));

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, "vm17-000123", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Null(error.ErrorCode);
        Assert.Equal("Out of call volume quota.", error.Title);
    }

    [Fact]
    public async Task An_error_with_an_html_body_keeps_its_status_and_falls_back_to_the_reason_phrase()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.NotFound, "<html><body>Not here</body></html>", "text/html"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, "vm17-000123", CancellationToken.None));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Null(error.ErrorCode);
        Assert.Equal("Not Found", error.Title);
    }

    [Fact]
    public async Task An_unreadable_success_body_is_an_error_not_a_null()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.OK, "not json"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, "vm17-000123", CancellationToken.None));

        Assert.Equal(HttpStatusCode.OK, error.StatusCode);
    }

    [Theory]
    [InlineData("""{"title":"t","extraDetails":[{"name":"Other","reason":"x"},{"name":"ErrorCode","reason":"6080"}]}""", 6080, "t")]
    [InlineData("""{"Title":"t","ExtraDetails":[{"Name":"errorcode","Reason":6250}]}""", 6250, "t")]
    [InlineData("""{"title":"t","extraDetails":[{"name":"ErrorCode","reason":"not a number"}]}""", null, "t")]
    [InlineData("""{"title":"t","extraDetails":null}""", null, "t")]
    [InlineData("""{"title":"t","extraDetails":{"name":"ErrorCode","reason":"6080"}}""", null, "t")]
    [InlineData("""{"statusCode":429,"message":"Rate limit is exceeded."}""", null, "Rate limit is exceeded.")]
    [InlineData("""[{"errorGroup":"Payment","errorCode":"42","errorMessage":"Refused"}]""", 42, "Refused")]
    [InlineData("""[]""", null, null)]
    [InlineData("""oops""", null, null)]
    [InlineData("", null, null)]
    public void Error_bodies_of_every_shape_parse_without_throwing(string body, int? errorCode, string? title)
    {
        var parsed = VippsErrors.Parse(body);

        Assert.Equal(errorCode, parsed.ErrorCode);
        Assert.Equal(title, parsed.Title);
    }

    [Theory]
    [InlineData("""{"title":"t","traceId":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("""{"title":"t","TraceId":"abc123"}""", "abc123")]
    [InlineData("""{"statusCode":401,"message":"Access denied due to invalid subscription key."}""", null)]
    [InlineData("""{"title":"t","traceId":42}""", null)]
    [InlineData("""{"title":"t","traceId":"has a space"}""", null)]
    [InlineData("""[{"errorCode":"42","errorMessage":"Refused","traceId":"x"}]""", null)]
    public void The_trace_id_is_read_from_problem_bodies_only_when_it_looks_like_one(string body, string? traceId)
    {
        Assert.Equal(traceId, VippsErrors.Parse(body).TraceId);
    }

    [Fact]
    public async Task Vipps_trace_id_reaches_the_exception_and_the_failure_log_line()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Problem(HttpStatusCode.BadRequest, 6080, "Cannot capture before reservation"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() =>
            context.EPayment.CaptureAsync(VippsTestContext.Norway, "vm17-000123", new Amount("NOK", 2500), "vm17-000123-capture", CancellationToken.None));

        Assert.Equal("00-abc-def-00", error.TraceId);
        Assert.Contains("00-abc-def-00", error.Message);
        var line = Assert.Single(context.Logs.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Message.Contains("failed", StringComparison.Ordinal));
        Assert.Contains("6080", line.Message);
        Assert.Contains("00-abc-def-00", line.Message);
    }

    [Fact]
    public async Task A_gateway_error_has_no_trace_id()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.Forbidden, """{"statusCode":403,"message":"Out of call volume quota."}"""));

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, "vm17-000123", CancellationToken.None));

        Assert.Null(error.TraceId);
    }
}
