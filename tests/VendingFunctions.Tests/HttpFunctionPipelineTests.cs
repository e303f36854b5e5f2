using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Moq;
using Vending.Core.Http;
using Vending.Core.Sales;
using Vending.Vipps;
using VendingFunctions.Http;

namespace VendingFunctions.Tests;

/// <summary>What the worker middleware (and, until it goes, the reflection runner) does around every HTTP function:
/// each failure becomes the problem+json it must, nothing of a failure's cause leaves, and the request log line.</summary>
public sealed class HttpFunctionPipelineTests
{
    private const string Secret = "s3cret-connection-string-AccountKey=abc";

    private readonly RecordingLogger _logs = new();

    [Theory]
    [InlineData(RefusalKind.Invalid, 400)]
    [InlineData(RefusalKind.NotPermitted, 403)]
    [InlineData(RefusalKind.NotFound, 404)]
    [InlineData(RefusalKind.Conflict, 409)]
    [InlineData(RefusalKind.NotConfigured, 500)]
    [InlineData(RefusalKind.ProviderFailed, 502)]
    [InlineData(RefusalKind.ProviderUnavailable, 503)]
    public async Task A_domain_refusal_gets_the_status_of_its_kind_and_keeps_its_code_title_and_field(RefusalKind kind, int status)
    {
        var request = TestHttp.Request("POST", "/api/payments");

        var response = await TestHttp.Run(request, _ => throw new SaleException(kind, "some_refusal", "Why it was refused.", "lines[0].quantity"), _logs);

        response.AssertProblem(status, "some_refusal", "lines[0].quantity");
        Assert.Equal("Why it was refused.", response.Json.GetProperty("title").GetString());
        Assert.Equal("urn:vending:problem:some_refusal", response.Json.GetProperty("type").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        Assert.DoesNotContain(_logs.Lines, line => line.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Every_refusal_kind_has_a_status()
    {
        Assert.All(Enum.GetValues<RefusalKind>(), kind => Assert.InRange(HttpFunctionPipeline.StatusOf(kind), 400, 599));
    }

    [Fact]
    public async Task A_refusal_of_the_http_layer_keeps_its_own_status_and_an_unauthorized_one_carries_the_challenge()
    {
        var request = TestHttp.Request("POST", "/api/payments");

        var tooLarge = await TestHttp.Run(request, _ => throw new ApiProblemException(413, ApiErrors.BodyTooLarge, "Too large.", "body"), _logs);
        var unauthorized = await TestHttp.Run(TestHttp.Request("POST", "/api/payments"), _ => throw new ApiProblemException(401, ApiErrors.Unauthorized, "Who are you?"), _logs);

        tooLarge.AssertProblem(413, "body_too_large", "body");
        Assert.False(tooLarge.Headers.ContainsKey("WWW-Authenticate"));
        unauthorized.AssertProblem(401, "unauthorized");
        Assert.Equal(MachineAuthenticator.Challenge, unauthorized.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task The_function_token_ends_when_the_client_hangs_up_and_the_answer_is_499()
    {
        using var clientGone = new CancellationTokenSource();
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd?wait=20&state=created");
        request.HttpContext.RequestAborted = clientGone.Token;
        var seen = CancellationToken.None;

        var response = await TestHttp.Run(request, async token =>
        {
            seen = token;
            await clientGone.CancelAsync();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return ApiResult.Json(200, new { });
        }, _logs);

        Assert.True(seen.IsCancellationRequested);
        response.AssertProblem(499, "request_cancelled");
        Assert.DoesNotContain(_logs.Lines, line => line.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task The_function_token_ends_when_the_host_stops()
    {
        using var hostStopping = new CancellationTokenSource();
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd");

        var result = await HttpFunctionPipeline.RunAsync(request.HttpContext, "GetPayment", hostStopping.Token, async token =>
        {
            await hostStopping.CancelAsync();
            token.ThrowIfCancellationRequested();
            return ApiResult.Json(200, new { });
        }, _logs);

        Assert.Equal(499, Assert.IsType<ApiResult>(result).Status);
    }

    [Fact]
    public async Task A_cancellation_that_is_not_the_callers_is_an_unexpected_error()
    {
        // E.g. an HTTP client's own timeout: nobody hung up, so it is a failure of ours, not a 499.
        var response = await TestHttp.Run(TestHttp.Request("GET", "/api/payments/sale-0001-abcd"),
            _ => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout"), _logs);

        response.AssertProblem(500, "internal_error");
        Assert.Contains(_logs.Lines, line => line.Level == LogLevel.Error);
    }

    [Fact]
    public async Task Vipps_not_answering_is_503_with_retry_after_and_a_warning()
    {
        var outage = new VippsApiException(HttpStatusCode.ServiceUnavailable, null, "Service Unavailable " + Secret);

        var response = await TestHttp.Run(TestHttp.Request("GET", "/api/operator/sales/sale-0001-abcd/vipps"), _ => throw outage, _logs);

        response.AssertProblem(503, "payment_provider_unavailable");
        Assert.Equal(HttpFunctionPipeline.RetryAfterSeconds, response.Headers.RetryAfter.ToString());
        Assert.DoesNotContain(Secret, response.Body, StringComparison.Ordinal);
        Assert.Contains(_logs.Lines, line => line.Level == LogLevel.Warning && line.Exception == outage);
    }

    [Fact]
    public async Task A_permanent_vipps_refusal_nobody_handled_is_an_unexpected_error()
    {
        var refusal = new VippsApiException(HttpStatusCode.BadRequest, 6090, "Capture too high");

        var response = await TestHttp.Run(TestHttp.Request("POST", "/api/payments"), _ => throw refusal, _logs);

        response.AssertProblem(500, "internal_error");
        Assert.DoesNotContain("6090", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unexpected_error_is_a_500_that_reveals_nothing_and_is_logged_with_the_request_id()
    {
        var failure = new InvalidOperationException("Storage said no: " + Secret);
        var request = TestHttp.Request("POST", "/api/payments?code=function-key-in-query", """{"a":1}""");

        var response = await TestHttp.Run(request, _ => throw failure, _logs);

        response.AssertProblem(500, "internal_error");
        Assert.Equal("An unexpected error occurred.", response.Json.GetProperty("title").GetString());
        Assert.DoesNotContain(Secret, response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", response.Body, StringComparison.Ordinal);
        var requestId = response.Json.GetProperty("traceId").GetString()!;
        Assert.False(string.IsNullOrEmpty(requestId));
        var error = Assert.Single(_logs.Lines, line => line.Level == LogLevel.Error);
        Assert.Same(failure, error.Exception);
        Assert.Contains(requestId, error.Message, StringComparison.Ordinal);
        Assert.Contains("POST /api/payments", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_request_is_logged_once_with_method_path_function_and_status_but_no_query_or_header()
    {
        var request = TestHttp.Request("GET", "/api/payments/sale-0001-abcd?code=function-key-in-query&wait=1");
        request.Headers["x-functions-key"] = "function-key-in-header";

        var result = await HttpFunctionPipeline.RunAsync(request.HttpContext, "GetPayment", CancellationToken.None,
            _ => Task.FromResult<object?>(ApiResult.Json(200, new { state = "Created" })), _logs);

        Assert.Equal(200, Assert.IsType<ApiResult>(result).Status);
        var line = Assert.Single(_logs.Lines);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.StartsWith("HTTP GET /api/payments/sale-0001-abcd ran function GetPayment: 200 in ", line.Message, StringComparison.Ordinal);
        Assert.Equal("/api/payments/sale-0001-abcd", line.Properties["Path"]);
        Assert.Equal(200, line.Properties["Status"]);
        Assert.IsType<double>(line.Properties["ElapsedMilliseconds"]);
        Assert.DoesNotContain("function-key-in", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_secret_reaches_the_logs_from_a_refused_machine_call()
    {
        var request = TestHttp.Request("POST", "/api/payments?code=function-key-in-query", apiKey: "machine-1.the-machine-secret");

        await TestHttp.Run(request, _ => throw new ApiProblemException(401, ApiErrors.Unauthorized, "A valid machine api key is required."), _logs);

        Assert.NotEmpty(_logs.Lines);
        Assert.DoesNotContain(_logs.Lines, line => line.Message.Contains("the-machine-secret", StringComparison.Ordinal)
            || line.Message.Contains("function-key-in-query", StringComparison.Ordinal));
    }

    [Fact]
    public void The_worker_sees_the_original_context_through_the_scoped_one_except_for_the_token()
    {
        using var linked = new CancellationTokenSource();
        var items = new Dictionary<object, object> { ["k"] = "v" };
        var services = new ServiceCollection().BuildServiceProvider();
        var inner = new Mock<FunctionContext>(MockBehavior.Strict);
        inner.SetupGet(c => c.InvocationId).Returns("inv-1");
        inner.SetupGet(c => c.FunctionId).Returns("fn-1");
        inner.SetupGet(c => c.Items).Returns(items);
        inner.SetupGet(c => c.InstanceServices).Returns(services);
        inner.SetupGet(c => c.Features).Returns(Mock.Of<IInvocationFeatures>());
        inner.SetupGet(c => c.CancellationToken).Returns(CancellationToken.None);

        FunctionContext scoped = new CancellationScopedFunctionContext(inner.Object, linked.Token);

        Assert.Equal(("inv-1", "fn-1"), (scoped.InvocationId, scoped.FunctionId));
        Assert.Same(items, scoped.Items);
        Assert.Same(services, scoped.InstanceServices);
        Assert.Same(inner.Object.Features, scoped.Features);
        Assert.Equal(linked.Token, scoped.CancellationToken);
    }

    /// <summary>Keeps each log entry: level, formatted message, the template's values and the exception.</summary>
    private sealed class RecordingLogger : ILogger
    {
        public List<Entry> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value)
                : [];
            Lines.Add(new Entry(logLevel, formatter(state, exception), properties, exception));
        }

        public sealed record Entry(LogLevel Level, string Message, Dictionary<string, object?> Properties, Exception? Exception);
    }
}
