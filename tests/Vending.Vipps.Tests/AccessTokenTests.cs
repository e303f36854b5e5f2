using System.Net;
using Vending.Vipps.EPayment;
using Vending.Vipps.Tests.Support;

namespace Vending.Vipps.Tests;

public sealed class AccessTokenTests
{
    private const string Reference = "vm17-000123";
    private const string PaymentJson =
        """{"amount":{"currency":"NOK","value":2500},"state":"CREATED","aggregate":{"authorizedAmount":{"currency":"NOK","value":0},"cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":0},"refundedAmount":{"currency":"NOK","value":0}},"pspReference":"psp-1","reference":"vm17-000123"}""";

    [Fact]
    public async Task The_token_is_fetched_once_and_reused_by_later_calls()
    {
        using var context = new VippsTestContext();
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        for (var i = 0; i < 3; i++)
        {
            await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        }

        Assert.Single(context.Handler.TokenRequests);
        Assert.All(context.Handler.ApiRequests, r => Assert.Equal("Bearer token-1", r.Header("Authorization")));
    }

    [Fact]
    public async Task Twenty_concurrent_calls_share_one_token_request()
    {
        using var context = new VippsTestContext();
        var tokenRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseToken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Handler.Token = async (_, number, _) =>
        {
            tokenRequested.TrySetResult();
            await releaseToken.Task;
            return FakeVippsHandler.TokenResponse($"token-{number}", 3600);
        };
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        // Every call starts (and, without a per-merchant gate, would ask for its own token) while the first token request is held open.
        var calls = Enumerable.Range(0, 20)
            .Select(_ => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None))
            .ToList();
        await tokenRequested.Task;
        releaseToken.SetResult();
        await Task.WhenAll(calls);

        Assert.Single(context.Handler.TokenRequests);
        Assert.Equal(20, context.Handler.ApiRequests.Count);
        Assert.All(context.Handler.ApiRequests, r => Assert.Equal("Bearer token-1", r.Header("Authorization")));
    }

    [Fact]
    public async Task Each_merchant_has_its_own_token()
    {
        using var context = new VippsTestContext();
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        await context.EPayment.GetPaymentAsync(VippsTestContext.Denmark, Reference, CancellationToken.None);
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal(["client-no", "client-dk"], context.Handler.TokenRequests.Select(r => r.Header("client_id")));
        Assert.Equal(["Bearer token-1", "Bearer token-2", "Bearer token-1"], context.Handler.ApiRequests.Select(r => r.Header("Authorization")));
    }

    [Fact]
    public async Task The_token_is_refreshed_five_minutes_before_it_expires()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var context = new VippsTestContext(timeProvider: clock);
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(54));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        Assert.Single(context.Handler.TokenRequests);

        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal(2, context.Handler.TokenRequests.Count);
        Assert.Equal(["Bearer token-1", "Bearer token-1", "Bearer token-2"], context.Handler.ApiRequests.Select(r => r.Header("Authorization")));
    }

    [Fact]
    public async Task A_short_lived_token_is_refreshed_ten_percent_early()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var context = new VippsTestContext(timeProvider: clock);
        context.Handler.Token = (_, number, _) => Task.FromResult(FakeVippsHandler.TokenResponse($"token-{number}", expiresInSeconds: 100));
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(89));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        Assert.Single(context.Handler.TokenRequests);

        clock.Advance(TimeSpan.FromSeconds(2));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        Assert.Equal(2, context.Handler.TokenRequests.Count);
    }

    [Fact]
    public async Task A_401_drops_the_token_and_retries_once_with_a_new_one_and_the_same_key()
    {
        using var context = new VippsTestContext();
        context.Handler.RespondInOrder(
            () => FakeVippsHandler.Json(HttpStatusCode.Unauthorized, """{"statusCode":401,"message":"Access denied due to invalid token."}"""),
            () => FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        await context.EPayment.CaptureAsync(VippsTestContext.Norway, Reference, new Amount("NOK", 2500), "vm17-000123-capture", CancellationToken.None);

        Assert.Equal(2, context.Handler.TokenRequests.Count);
        var attempts = context.Handler.ApiRequests;
        Assert.Equal(["Bearer token-1", "Bearer token-2"], attempts.Select(r => r.Header("Authorization")));
        Assert.All(attempts, a => Assert.Equal("vm17-000123-capture", a.Header("Idempotency-Key")));
        Assert.Equal(attempts[0].Body, attempts[1].Body);
    }

    [Fact]
    public async Task A_second_401_is_an_error_not_a_loop()
    {
        using var context = new VippsTestContext();
        context.Handler.RespondInOrder(() => FakeVippsHandler.Json(HttpStatusCode.Unauthorized, """{"statusCode":401,"message":"Access denied due to invalid token."}"""));

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("Access denied due to invalid token.", error.Title);
        Assert.Equal(2, context.Handler.ApiRequests.Count);
        Assert.Equal(2, context.Handler.TokenRequests.Count);
    }

    [Fact]
    public async Task Refused_credentials_surface_as_an_error_without_calling_the_api()
    {
        using var context = new VippsTestContext();
        context.Handler.Token = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.Unauthorized, """{"error":"unauthorized_client","error_description":"bad secret"}"""));

        var error = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Single(context.Handler.TokenRequests);
        Assert.Empty(context.Handler.ApiRequests);
    }

    [Fact]
    public async Task A_token_endpoint_outage_is_retried()
    {
        using var context = new VippsTestContext();
        context.Handler.Token = (_, number, _) => Task.FromResult(number == 1
            ? FakeVippsHandler.Json(HttpStatusCode.ServiceUnavailable, "")
            : FakeVippsHandler.TokenResponse($"token-{number}", 3600));
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));

        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal(2, context.Handler.TokenRequests.Count);
        Assert.Equal("Bearer token-2", Assert.Single(context.Handler.ApiRequests).Header("Authorization"));
    }

    private static HttpResponseMessage KeyRefused() =>
        FakeVippsHandler.Json(HttpStatusCode.Unauthorized, """{"statusCode":401,"message":"Access denied due to invalid subscription key."}""");

    [Fact]
    public async Task A_failing_refresh_keeps_using_the_still_valid_token_and_is_backed_off()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var context = new VippsTestContext(timeProvider: clock);
        var refuse = false;
        context.Handler.Token = (_, number, _) => Task.FromResult(refuse ? KeyRefused() : FakeVippsHandler.TokenResponse($"token-{number}", 3600));
        context.Handler.Api = (_, _, _) => Task.FromResult(FakeVippsHandler.Json(HttpStatusCode.OK, PaymentJson));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        // Past the refresh time (55 min), before expiry (60 min); the refresh is refused.
        refuse = true;
        clock.Advance(TimeSpan.FromMinutes(56));
        for (var i = 0; i < 5; i++)
        {
            await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        }

        Assert.Equal(2, context.Handler.TokenRequests.Count);

        clock.Advance(TimeSpan.FromSeconds(1));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);
        Assert.Equal(3, context.Handler.TokenRequests.Count); // the second back-off is 2 s

        refuse = false;
        clock.Advance(TimeSpan.FromSeconds(1));
        await context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None);

        Assert.Equal(4, context.Handler.TokenRequests.Count);
        Assert.Equal(Enumerable.Repeat("Bearer token-1", 8).Append("Bearer token-4"), context.Handler.ApiRequests.Select(r => r.Header("Authorization")));
        Assert.Contains(context.Logs.Lines, l => l.Message.Contains("using the cached token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_valid_token_a_failed_refresh_fails_every_waiter_at_once_with_one_request_to_vipps()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var context = new VippsTestContext(timeProvider: clock);
        var tokenRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseToken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Handler.Token = async (_, _, _) =>
        {
            tokenRequested.TrySetResult();
            await releaseToken.Task;
            return KeyRefused();
        };

        var calls = Enumerable.Range(0, 20)
            .Select(_ => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None))
            .ToList();
        await tokenRequested.Task;
        releaseToken.SetResult();
        var errors = new List<VippsApiException>();
        foreach (var call in calls)
        {
            errors.Add(await Assert.ThrowsAsync<VippsApiException>(() => call));
        }

        var later = await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));

        Assert.Single(context.Handler.TokenRequests);
        Assert.Empty(context.Handler.ApiRequests);
        Assert.All(errors.Append(later), e => Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode));
        Assert.False(later.IsTransient);

        clock.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));
        Assert.Equal(2, context.Handler.TokenRequests.Count);
    }

    [Fact]
    public async Task The_refresh_back_off_doubles_up_to_its_configured_maximum()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var context = new VippsTestContext(s => s["Vipps:TokenRefreshBackoffMaxSeconds"] = "4", clock);
        context.Handler.Token = (_, _, _) => Task.FromResult(KeyRefused());
        var requestTimes = new List<int>();

        // One call per simulated second for 16 s: refreshes at 0, 1, 3, 7, 11, 15 s (waits 1, 2, 4, 4, 4).
        for (var second = 0; second <= 16; second++)
        {
            var before = context.Handler.TokenRequests.Count;
            await Assert.ThrowsAsync<VippsApiException>(() => context.EPayment.GetPaymentAsync(VippsTestContext.Norway, Reference, CancellationToken.None));
            if (context.Handler.TokenRequests.Count > before)
            {
                requestTimes.Add(second);
            }

            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([0, 1, 3, 7, 11, 15], requestTimes);
    }
}
