using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Vending.Vipps.Http;

/// <summary>
/// One pipeline for every Vipps call: total timeout, then retries with exponential backoff and jitter, then a
/// per-attempt timeout. The retry re-sends the very same <see cref="HttpRequestMessage"/>, so the
/// <c>Idempotency-Key</c> header set once per logical call goes out unchanged on every attempt.
/// </summary>
internal static class VippsResilience
{
    /// <summary>Marks a request that has no idempotency key yet may be repeated without a second effect (the token request).</summary>
    public static readonly HttpRequestOptionsKey<bool> Repeatable = new("Vending.Vipps.Repeatable");

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<VippsOptions>>().Value;

        builder.AddTimeout(TimeSpan.FromSeconds(options.TotalTimeoutSeconds));
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(CreateRetryOptions(options));
        }

        builder.AddTimeout(TimeSpan.FromSeconds(options.AttemptTimeoutSeconds));
    }

    public static HttpRetryStrategyOptions CreateRetryOptions(VippsOptions options) => new()
    {
        MaxRetryAttempts = options.MaxRetryAttempts,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
        MaxDelay = TimeSpan.FromSeconds(options.TotalTimeoutSeconds),
        ShouldRetryAfterHeader = true,
        ShouldHandle = ShouldRetry,
    };

    public static ValueTask<bool> ShouldRetry(RetryPredicateArguments<HttpResponseMessage> arguments)
    {
        var request = arguments.Outcome.Result?.RequestMessage ?? arguments.Context.GetRequestMessage();
        if (request is null || !IsRepeatable(request))
        {
            return ValueTask.FromResult(false);
        }

        var retry = arguments.Outcome switch
        {
            { Exception: HttpRequestException or TimeoutRejectedException } => true,
            { Result: { } response } => IsTransient(response.StatusCode),
            _ => false,
        };
        return ValueTask.FromResult(retry);
    }

    /// <summary>5xx, 423 Locked and 429 Too Many Requests: Vipps asks for the same request again later. Every other 4xx is final for its key.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status == HttpStatusCode.Locked || status == HttpStatusCode.TooManyRequests;

    /// <summary>
    /// A POST without an idempotency key (webhook registration) is never repeated: after a lost answer a second
    /// attempt could register twice. Reads and deletes are naturally idempotent.
    /// </summary>
    private static bool IsRepeatable(HttpRequestMessage request) =>
        request.Headers.Contains(VippsHeaders.IdempotencyKey)
        || request.Method == HttpMethod.Get
        || request.Method == HttpMethod.Delete
        || (request.Options.TryGetValue(Repeatable, out var repeatable) && repeatable);
}
