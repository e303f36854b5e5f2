using System.Net;
using System.Net.Http.Headers;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Vending.Vipps.EPayment;
using Vending.Vipps.Http;
using Vending.Vipps.Tests.Support;

namespace Vending.Vipps.Tests;

public sealed class ResilienceTests : IDisposable
{
    private const string Reference = "vm17-000123";
    private const string CreatedJson = """{"reference":"vm17-000123","redirectUrl":"https://qr"}""";

    private readonly VippsTestContext context = new();

    public void Dispose() => context.Dispose();

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.Locked)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task A_transient_answer_is_retried_with_the_same_idempotency_key_and_body(HttpStatusCode transient)
    {
        context.Handler.RespondInOrder(
            () => FakeVippsHandler.Problem(transient, 3010, "try again"),
            () => FakeVippsHandler.Json(HttpStatusCode.Created, CreatedJson));

        var created = await context.EPayment.CreatePaymentAsync(VippsTestContext.Norway, EPaymentClientTests.SampleCreateRequest(), "vm17-000123-create", CancellationToken.None);

        Assert.Equal(Reference, created.Reference);
        var attempts = context.Handler.ApiRequests;
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("vm17-000123-create", a.Header("Idempotency-Key")));
        Assert.Equal(attempts[0].Body, attempts[1].Body);
        Assert.Single(context.Handler.TokenRequests);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, 6090)]
    [InlineData(HttpStatusCode.Conflict, 4010)]
    [InlineData(HttpStatusCode.NotFound, 5090)]
    [InlineData(HttpStatusCode.Forbidden, 5030)]
    public async Task A_final_answer_is_not_retried(HttpStatusCode final, int errorCode)
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Problem(final, errorCode, "no"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() =>
            context.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 2500), "vm17-000123-capture", CancellationToken.None));

        Assert.Single(context.Handler.ApiRequests);
        Assert.Equal(final, error.StatusCode);
        Assert.Equal(errorCode, error.ErrorCode);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts_and_the_error_is_transient()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Problem(HttpStatusCode.ServiceUnavailable, 3010, "down"));

        var error = await Assert.ThrowsAsync<VippsApiException>(() =>
            context.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 2500), "vm17-000123-capture", CancellationToken.None));

        // The first attempt and MaxRetryAttempts = 3 retries, all with one key.
        var attempts = context.Handler.ApiRequests;
        Assert.Equal(4, attempts.Count);
        Assert.Single(attempts.Select(a => a.Header("Idempotency-Key")).Distinct());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(3010, error.ErrorCode);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task A_connection_failure_is_retried_with_the_same_key()
    {
        context.Handler.Api = (_, number, _) => number == 1
            ? throw new HttpRequestException("connection reset")
            : Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, ModificationJson()));

        await context.EPayment.CancelAsync(VippsTestContext.Norway, Reference, false, "vm17-000123-cancel", CancellationToken.None);

        var attempts = context.Handler.ApiRequests;
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("vm17-000123-cancel", a.Header("Idempotency-Key")));
    }

    [Fact]
    public async Task A_persistent_connection_failure_becomes_a_transient_error_without_status()
    {
        context.Handler.Api = (_, _, _) => throw new HttpRequestException("no route to host");

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));

        Assert.Null(error.StatusCode);
        Assert.True(error.IsTransient);
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Equal(4, context.Handler.ApiRequests.Count);
    }

    [Fact]
    public async Task An_attempt_that_hangs_is_cut_by_the_attempt_timeout_and_retried()
    {
        using var slow = new VippsTestContext(s =>
        {
            s["Vipps:AttemptTimeoutSeconds"] = "1";
            s["Vipps:TotalTimeoutSeconds"] = "20";
        });
        slow.Handler.Api = async (_, number, cancellationToken) =>
        {
            if (number == 1)
            {
                // Never answers: only the attempt timeout's cancellation ends this.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return FakeVippsHandler.Json(HttpStatusCode.OK, ModificationJson());
        };

        var captured = await slow.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 2500), "vm17-000123-capture", CancellationToken.None);

        Assert.Equal(Reference, captured.Reference);
        var attempts = slow.Handler.ApiRequests;
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("vm17-000123-capture", a.Header("Idempotency-Key")));
    }

    [Fact]
    public async Task No_answer_within_the_total_timeout_is_a_transient_error_without_status()
    {
        using var slow = new VippsTestContext(s =>
        {
            s["Vipps:AttemptTimeoutSeconds"] = "1";
            s["Vipps:TotalTimeoutSeconds"] = "1";
        });
        slow.Handler.Api = async (_, _, cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return FakeVippsHandler.Json(HttpStatusCode.OK, "{}");
        };

        var error = await Assert.ThrowsAsync<VippsApiException>(() => slow.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));

        Assert.Null(error.StatusCode);
        Assert.Null(error.ErrorCode);
        Assert.True(error.IsTransient);
        Assert.IsType<TimeoutRejectedException>(error.InnerException);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_turned_into_a_vipps_error()
    {
        using var cancellation = new CancellationTokenSource();
        context.Handler.Api = async (_, _, cancellationToken) =>
        {
            await cancellation.CancelAsync();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return FakeVippsHandler.Json(HttpStatusCode.OK, "{}");
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, cancellation.Token));

        Assert.Single(context.Handler.ApiRequests);
    }

    [Fact]
    public async Task A_read_without_idempotency_key_is_retried()
    {
        context.Handler.RespondInOrder(
            () => FakeVippsHandler.Json(HttpStatusCode.InternalServerError, ""),
            () => FakeVippsHandler.Json(HttpStatusCode.OK, ModificationJson()));

        var payment = await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal(PaymentStates.Authorized, payment.State);
        Assert.Equal(2, context.Handler.ApiRequests.Count);
    }

    [Fact]
    public async Task A_webhook_registration_has_no_idempotency_key_and_is_not_retried()
    {
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.ServiceUnavailable, ""));

        var error = await Assert.ThrowsAsync<VippsApiException>(() =>
            context.Webhooks.RegisterAsync(VippsTestContext.Norway, "https://vending.example.com/api/webhooks/vipps", ["epayments.payment.authorized.v1"], CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Single(context.Handler.ApiRequests);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retried()
    {
        context.Handler.RespondInOrder(
            () =>
            {
                var response = FakeVippsHandler.Problem(HttpStatusCode.TooManyRequests, 0, "slow down");
                response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.Zero);
                return response;
            },
            () => FakeVippsHandler.Json(HttpStatusCode.OK, ModificationJson()));

        await context.EPayment.RefundAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 100), "vm17-000123-refund1", CancellationToken.None);

        Assert.Equal(2, context.Handler.ApiRequests.Count);
    }

    [Fact]
    public async Task The_retry_waits_as_long_as_retry_after_asks()
    {
        var retry = VippsResilience.CreateRetryOptions(new VippsOptions { BaseUrl = new Uri("http://vipps.test"), RetryBaseDelayMilliseconds = 1 });
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        var resilienceContext = ResilienceContextPool.Shared.Get();

        var delay = await retry.DelayGenerator!(new RetryDelayGeneratorArguments<HttpResponseMessage>(resilienceContext, Outcome.FromResult(response), 0));

        Assert.Equal(TimeSpan.FromSeconds(7), delay);
        ResilienceContextPool.Shared.Return(resilienceContext);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.Locked, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.Conflict, false)]
    [InlineData(HttpStatusCode.RequestTimeout, false)]
    public void Transient_statuses_match_the_exception_classification(HttpStatusCode status, bool transient)
    {
        Assert.Equal(transient, VippsResilience.IsTransient(status));
        Assert.Equal(transient, new VippsApiException(status, null, "x").IsTransient);
    }

    private static string ModificationJson() =>
        """{"amount":{"currency":"NOK","value":2500},"state":"AUTHORIZED","aggregate":{"authorizedAmount":{"currency":"NOK","value":2500},"cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":0},"refundedAmount":{"currency":"NOK","value":0}},"pspReference":"psp-1","reference":"vm17-000123"}""";
}
