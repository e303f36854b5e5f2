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
}
